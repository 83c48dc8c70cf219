"""How much ml-100k's demographics can tell about a new user: NDCG@10 of ranking every item by its
popularity among the training users who share the new user's age band, gender or occupation, against
plain popularity, for 10 % of the users held out entirely (five random user splits).

    python3 benchmarks/peers/cold_users_group_popularity.py ../shared/data/ml-100k

A model-free reference for `benchmarks/cold-start-ml100k.yaml`: what one demographic attribute buys
without any model.
"""
import collections
import math
import random
import sys

import numpy as np


def main(folder):
    ratings = np.loadtxt(f"{folder}/u.data", dtype=int)
    users = {}
    with open(f"{folder}/u.user", encoding="latin-1") as lines:
        for line in lines:
            user, age, gender, occupation, _ = line.strip().split("|")
            users[int(user)] = (int(age), gender, occupation)
    bands = [18, 25, 35, 45, 50, 56]
    keys = {
        "popularity": lambda u: 0,
        "gender": lambda u: users[u][1],
        "age band": lambda u: sum(users[u][0] >= b for b in bands),
        "occupation": lambda u: users[u][2],
    }
    results = collections.defaultdict(list)
    for seed in range(5):
        order = sorted(users)
        random.Random(seed).shuffle(order)
        cold = set(order[: round(0.1 * len(order))])
        train = ratings[[u not in cold for u in ratings[:, 0]]]
        test = collections.defaultdict(set)
        for user, item, _, _ in ratings[[u in cold for u in ratings[:, 0]]]:
            test[user].add(item)
        overall = collections.Counter(train[:, 1])
        for name, key in keys.items():
            groups = collections.defaultdict(collections.Counter)
            for user, item, _, _ in train:
                groups[key(user)][item] += 1
            scores = []
            for user, items in test.items():
                counts = groups[key(user)]
                # Ties by overall popularity, then item number.
                top = sorted(overall, key=lambda i: (-counts[i], -overall[i], i))[:10]
                dcg = sum(1 / math.log2(rank + 2) for rank, item in enumerate(top) if item in items)
                ideal = sum(1 / math.log2(rank + 2) for rank in range(min(10, len(items))))
                scores.append(dcg / ideal)
            results[name].append(np.mean(scores))
    for name, values in results.items():
        print(f"{name:12s} NDCG@10 {np.mean(values):.4f} ± {np.std(values, ddof=1):.4f}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/ml-100k")

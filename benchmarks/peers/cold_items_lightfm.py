"""LightFM on a cold-items split: WARP, item features = identity for the training (warm) items plus
genres, decade and tags; the held-out (cold) items get their attributes only, no identity feature.
Each test user's ranking is among the cold items alone, NDCG@10 as RecKit computes it.

    python3 benchmarks/peers/cold_items_lightfm.py SPLIT_DIR DATA_DIR [--threads 1] [--seeds 3]

SPLIT_DIR is what `reckit data split DATA_DIR --split cold-items:0.1 --out SPLIT_DIR` writes (the very
split `reckit evaluate --split cold-items:0.1` uses); DATA_DIR the ml-latest-small folder (movies.csv,
tags.csv). The epoch count and learning rate are chosen on a validation cut of the training part (10 %
of its items held out cold, seeded), as RecKit's suite chooses its settings; then each seed trains on
the whole training part. One thread by default: LightFM's Hogwild threads make runs differ, and the
choice on validation with them. Prints one JSON line per setting and seed, and a summary line.
"""
import argparse
import csv
import json
import math
import re
import time

import numpy as np
import scipy.sparse as sp
from lightfm import LightFM

DECADES = list(range(1930, 2021, 10))  # RecKit's decade boundaries


def read_split(path):
    rows = []
    with open(path) as lines:
        for line in lines:
            fields = line.rstrip("\n").split("\t")
            rows.append((fields[0], fields[1]))
    return rows


def read_items(folder):
    genres, decade, tags = {}, {}, {}
    with open(f"{folder}/movies.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            item = row["movieId"]
            genres[item] = [] if row["genres"] == "(no genres listed)" else row["genres"].split("|")
            match = re.search(r"\((\d{4})\)\s*$", row["title"].strip())
            if match:
                year = int(match.group(1))
                decade[item] = sum(year >= b for b in DECADES)
    with open(f"{folder}/tags.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            values = tags.setdefault(row["movieId"], [])
            if row["tag"] not in values:
                values.append(row["tag"])
    return genres, decade, tags


def item_features(items, warm, genres, decade, tags):
    """Identity for warm items, then genre, decade and tag (on >= 2 warm items) indicators, each row
    normalised to sum 1 (LightFM's Dataset does the same)."""
    tag_counts = {}
    for item in items:
        if item in warm:
            for tag in tags.get(item, []):
                tag_counts[tag] = tag_counts.get(tag, 0) + 1
    names = {}

    def column(name):
        return names.setdefault(name, len(items) + len(names))

    rows, cols = [], []
    for index, item in enumerate(items):
        features = [index] if item in warm else []
        features += [column("genre:" + g) for g in genres.get(item, [])]
        if item in decade:
            features.append(column(f"decade:{decade[item]}"))
        features += [column("tag:" + t) for t in tags.get(item, []) if tag_counts.get(t, 0) >= 2]
        for feature in features:
            rows.append(index)
            cols.append(feature)
    values = np.ones(len(rows), dtype=np.float32)
    matrix = sp.csr_matrix((values, (rows, cols)), shape=(len(items), len(items) + len(names)))
    sums = np.asarray(matrix.sum(axis=1)).ravel()
    sums[sums == 0] = 1
    return sp.diags(1 / sums).dot(matrix).tocsr().astype(np.float32)


def ndcg_at_10(model, users, truth, cold, features, threads):
    """Mean NDCG@10 over users with test items, ranking the cold items only (ties to the lower index)."""
    cold = np.array(sorted(cold), dtype=np.int32)
    total = 0.0
    for user in users:
        scores = model.predict(user, cold, item_features=features, num_threads=threads)
        order = np.lexsort((cold, -scores))[:10]
        relevant = truth[user]
        dcg = sum(1 / math.log2(rank + 2) for rank, item in enumerate(cold[order]) if item in relevant)
        ideal = sum(1 / math.log2(rank + 2) for rank in range(min(10, len(relevant))))
        total += dcg / ideal
    return total / len(users)


def fit(interactions, features, epochs, rate, seed, threads):
    model = LightFM(no_components=32, loss="warp", learning_rate=rate, random_state=seed)
    model.fit(interactions, item_features=features, epochs=epochs, num_threads=threads)
    return model


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("split")
    parser.add_argument("data")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    train = read_split(f"{args.split}/train.tsv")
    test = read_split(f"{args.split}/test.tsv")
    users = sorted({u for u, _ in train + test}, key=int)
    items = sorted({i for _, i in train + test}, key=int)
    user_index = {u: k for k, u in enumerate(users)}
    item_index = {i: k for k, i in enumerate(items)}
    genres, decade, tags = read_items(args.data)

    def matrix(rows):
        pairs = {(user_index[u], item_index[i]) for u, i in rows}
        r, c = zip(*sorted(pairs))
        return sp.coo_matrix((np.ones(len(r), dtype=np.float32), (r, c)), shape=(len(users), len(items)))

    def truth_of(rows):
        truth = {}
        for u, i in rows:
            truth.setdefault(user_index[u], set()).add(item_index[i])
        return truth

    # Validation: 10 % of the warm items held out cold from the training part, seeded.
    warm = sorted({i for _, i in train}, key=int)
    rng = np.random.default_rng(42)
    held = set(rng.choice(warm, size=max(1, round(0.1 * len(warm))), replace=False).tolist())
    fit_rows = [(u, i) for u, i in train if i not in held]
    valid_rows = [(u, i) for u, i in train if i in held]
    valid_features = item_features(items, {i for _, i in fit_rows}, genres, decade, tags)
    valid_truth = truth_of(valid_rows)
    best = None
    for rate in (0.02, 0.05):
        for epochs in (5, 10, 20, 40):
            model = fit(matrix(fit_rows), valid_features, epochs, rate, 0, args.threads)
            value = ndcg_at_10(
                model, sorted(valid_truth), valid_truth, {item_index[i] for i in held}, valid_features, args.threads)
            print(json.dumps({"validation": {"epochs": epochs, "learning_rate": rate}, "ndcg@10": round(value, 4)}),
                  flush=True)
            if best is None or value > best[2]:
                best = (epochs, rate, value)

    features = item_features(items, set(warm), genres, decade, tags)
    truth = truth_of(test)
    cold = {item_index[i] for _, i in test}
    results = []
    for seed in range(args.seeds):
        start = time.time()
        model = fit(matrix(train), features, best[0], best[1], seed, args.threads)
        seconds = time.time() - start
        value = ndcg_at_10(model, sorted(truth), truth, cold, features, args.threads)
        results.append(value)
        print(json.dumps({"seed": seed, "ndcg@10": round(value, 4), "fit_s": round(seconds, 2)}))
    mean = sum(results) / len(results)
    sd = math.sqrt(sum((r - mean) ** 2 for r in results) / max(1, len(results) - 1))
    print(json.dumps({
        "model": "lightfm warp", "epochs": best[0], "learning_rate": best[1], "ndcg@10": round(mean, 4),
        "sd": round(sd, 4),
        "users": len(truth), "cold_items": len(cold)}))


if __name__ == "__main__":
    main()

"""Cross-check: score Spark ALS factors on a split folder with the peers' metric code.

    python spark/check_factors.py --factors FACTORS --split-dir SPLIT --peers ../shared/peers

Reads the factors `spark/train_als.py` wrote (id,f0,...), the split's train.tsv and test.tsv, and
ranks exactly as ../shared/peers/topn.py does: users and items indexed over train and test, every
item scored, each user's training items excluded, ties to the lower item index. Items (and users)
without factors (they appear only in the test part) score -inf: relevant but never recommended.
Prints one JSON object (the metrics of `common.topn_metrics`).
"""
import argparse
import csv
import glob
import json
import os
import sys


def read_factors(folder):
    ids, rows = [], []
    for path in sorted(glob.glob(os.path.join(folder, "part-*.csv"))):
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None:
                continue
            for record in reader:
                ids.append(record[0])
                rows.append([float(x) for x in record[1:]])
    return ids, rows


def read_split(path):
    with open(path, newline="", encoding="utf-8") as f:
        return [(row[0], row[1]) for row in csv.reader(f, delimiter="\t") if row]


def id_order(ids):
    """RecKit's (and numpy.unique's, for integers) order: numeric when all IDs are integers, else bytewise."""
    unique = set(ids)
    try:
        return sorted(unique, key=int)
    except ValueError:
        return sorted(unique, key=lambda s: s.encode("utf-8"))


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--factors", required=True)
    parser.add_argument("--split-dir", required=True)
    parser.add_argument("--peers", required=True, help="the folder holding the peers' common.py")
    parser.add_argument("-k", type=int, default=10)
    args = parser.parse_args(argv)
    sys.path.insert(0, args.peers)
    import common  # noqa: E402  (pins BLAS threads before numpy loads)
    import numpy as np

    train_pairs = read_split(os.path.join(args.split_dir, "train.tsv"))
    test_pairs = read_split(os.path.join(args.split_dir, "test.tsv"))
    users = id_order([u for u, _ in train_pairs + test_pairs])
    items = id_order([i for _, i in train_pairs + test_pairs])
    user_index = {u: n for n, u in enumerate(users)}
    item_index = {i: n for n, i in enumerate(items)}

    def matrix(pairs):
        return common.csr(np.array([user_index[u] for u, _ in pairs]), np.array([item_index[i] for _, i in pairs]),
                          len(users), len(items))

    train, test = matrix(train_pairs), matrix(test_pairs)
    user_ids, user_rows = read_factors(os.path.join(args.factors, "user_factors"))
    item_ids, item_rows = read_factors(os.path.join(args.factors, "item_factors"))
    k = len(user_rows[0])
    U = np.zeros((len(users), k), dtype=np.float32)
    V = np.zeros((len(items), k), dtype=np.float32)
    has_item = np.zeros(len(items), dtype=bool)
    for uid, row in zip(user_ids, user_rows):
        U[user_index[uid]] = row
    for iid, row in zip(item_ids, item_rows):
        V[item_index[iid]] = row
        has_item[item_index[iid]] = True

    def score(batch):
        scores = (U[batch] @ V.T).astype(np.float64)
        scores[:, ~has_item] = -np.inf
        return scores

    eval_users = np.flatnonzero(np.diff(test.indptr) > 0)
    recs = common.topk_full_ranking(score, eval_users, train, args.k)
    metrics = common.topn_metrics(recs, eval_users, test, len(items), args.k)
    print(json.dumps(metrics))


if __name__ == "__main__":
    main(sys.argv[1:])

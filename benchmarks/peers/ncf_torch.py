"""NeuMF (He et al. 2017) in plain PyTorch, the network RecKit's `ncf` trains: GMF (16) and an MLP over the
concatenated user and item embeddings (32 + 32 -> 32 -> 16, ReLU), fused by one linear layer; BCE of each
observed pair against 4 unseen items drawn uniformly afresh every epoch, Adam (step 0.001), batches of 256.
Tested by the NCF protocol of the split folder: each user's held-out item against its 99 negatives.

    python3 benchmarks/peers/ncf_torch.py SPLIT_DIR [--epochs 20] [--threads 2] [--seed 0]

Prints one JSON line: HR@10, NDCG@10 and the median seconds per epoch (training only).
"""
import argparse
import json
import math
import statistics
import time

import numpy as np
import torch
from torch import nn


def read(path):
    with open(path) as lines:
        return [line.rstrip("\n").split("\t") for line in lines if line.strip()]


class NeuMF(nn.Module):
    def __init__(self, users, items, factors=16, layers=(64, 32, 16)):
        super().__init__()
        half = layers[0] // 2
        self.gmf_user = nn.Embedding(users, factors)
        self.gmf_item = nn.Embedding(items, factors)
        self.mlp_user = nn.Embedding(users, half)
        self.mlp_item = nn.Embedding(items, half)
        for table in (self.gmf_user, self.gmf_item, self.mlp_user, self.mlp_item):
            nn.init.normal_(table.weight, std=0.01)
        stack = []
        for inputs, outputs in zip(layers, layers[1:]):
            stack += [nn.Linear(inputs, outputs), nn.ReLU()]
        self.mlp = nn.Sequential(*stack)
        self.output = nn.Linear(factors + layers[-1], 1)
        nn.init.xavier_uniform_(self.output.weight)
        nn.init.zeros_(self.output.bias)

    def forward(self, users, items):
        gmf = self.gmf_user(users) * self.gmf_item(items)
        mlp = self.mlp(torch.cat([self.mlp_user(users), self.mlp_item(items)], dim=1))
        return self.output(torch.cat([gmf, mlp], dim=1)).squeeze(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("split")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    train, test, negatives = (read(f"{args.split}/{name}.tsv") for name in ("train", "test", "negatives"))
    # Ascending raw IDs over all three files, as RecKit indexes a split folder.
    users = sorted({r[0] for r in train + test + negatives}, key=int)
    items = sorted({r[1] for r in train + test} | {i for r in negatives for i in r[1:]}, key=int)
    user_index = {u: k for k, u in enumerate(users)}
    item_index = {i: k for k, i in enumerate(items)}
    pairs = sorted({(user_index[r[0]], item_index[r[1]]) for r in train})
    positive_users = np.array([u for u, _ in pairs], dtype=np.int64)
    positive_items = np.array([i for _, i in pairs], dtype=np.int64)
    seen = np.zeros((len(users), len(items)), dtype=bool)
    seen[positive_users, positive_items] = True
    model = NeuMF(len(users), len(items))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    loss_function = nn.BCEWithLogitsLoss()
    epoch_seconds = []
    for _ in range(args.epochs):
        start = time.perf_counter()
        # Uniform items, redrawn (up to 50 times) while the user has seen them, as RecKit draws them.
        negative_items = rng.integers(0, len(items), size=(len(pairs), 4))
        for _ in range(50):
            clash = seen[positive_users[:, None], negative_items]
            if not clash.any():
                break
            negative_items[clash] = rng.integers(0, len(items), size=int(clash.sum()))
        example_users = np.repeat(positive_users, 5)
        example_items = np.concatenate([positive_items[:, None], negative_items], axis=1).ravel()
        labels = np.tile(np.array([1, 0, 0, 0, 0], dtype=np.float32), len(pairs))
        order = rng.permutation(len(labels))
        u = torch.from_numpy(example_users[order])
        i = torch.from_numpy(example_items[order])
        y = torch.from_numpy(labels[order])
        model.train()
        for begin in range(0, len(labels), 256):
            optimizer.zero_grad()
            loss = loss_function(model(u[begin:begin + 256], i[begin:begin + 256]), y[begin:begin + 256])
            loss.backward()
            optimizer.step()
        epoch_seconds.append(time.perf_counter() - start)
    model.eval()
    held = {user_index[r[0]]: item_index[r[1]] for r in test}
    hits, gains = 0.0, 0.0
    with torch.no_grad():
        for row in negatives:
            user = user_index[row[0]]
            candidates = [held[user]] + [item_index[i] for i in row[1:]]
            scores = model(torch.full((len(candidates),), user, dtype=torch.long), torch.tensor(candidates)).numpy()
            rank = int((scores[1:] > scores[0]).sum())  # ties go to the held-out item
            if rank < 10:
                hits += 1
                gains += 1 / math.log2(rank + 2)
    count = len(negatives)
    print(json.dumps({
        "model": "neumf (pytorch)", "epochs": args.epochs, "hr@10": round(hits / count, 4),
        "ndcg@10": round(gains / count, 4), "seconds_per_epoch": round(statistics.median(epoch_seconds), 3),
        "threads": args.threads}))


if __name__ == "__main__":
    main()

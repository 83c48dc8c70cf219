"""A plain PyTorch YouTube DNN candidate generator (Covington, Adams and Sargin 2016) with RecKit's
`youtubednn` network, settings and sampler: the reference its epoch time is measured against.

Examples: every position t ≥ 1 of every user's time-ordered items (leave-last-out's training part:
each user's last item dropped); the input is the mean of the embeddings of the 50 items before t and
the example's age (time to the end of the data over the largest such time, with its square and root).
Network: a mean-pooled input embedding bag (64), the ages, one ReLU layer of 64 (the user vector), item
output vectors (64) and biases. Loss: sampled softmax over the target and 1,000 items drawn per batch in
proportion to count^0.75, each logit lowered by log Q(item) and a drawn item equal to the row's target
masked out. Sparse tables by SparseAdam, the layer by Adam (0.001), batches of 256.

    python benchmarks/peers/youtubednn_torch.py --ratings ../shared/data/ml-latest-small-2016/ratings.csv \
        --time-epochs 3 --threads 2
"""

import argparse
import csv
import json
import math
import sys
import time

import numpy as np
import torch


def column(header, *names):
    for index, name in enumerate(header):
        if name.lower() in names:
            return index
    raise SystemExit(f"no column among {names} in {header}")


def examples_from(path):
    """Each user's coded items in time order, every example's (sequence, position), its age, the item
    count and each item's count. Batches slice the histories out as RecKit does, so that 20 million
    examples fit in memory."""
    rows = {}
    with open(path) as handle:
        reader = csv.reader(handle)
        header = next(reader)
        user_column = column(header, "userid", "user_id", "user")
        item_column = column(header, "movieid", "item_id", "itemid", "item")
        time_column = column(header, "timestamp", "time")
        for fields in reader:
            rows.setdefault(fields[user_column], []).append((int(fields[time_column]), fields[item_column]))
    items = sorted({item for pairs in rows.values() for _, item in pairs})
    index = {item: n for n, item in enumerate(items)}
    timed = [sorted(rows[user])[:-1] for user in sorted(rows)]
    del rows
    end = max(t for sequence in timed for t, _ in sequence)
    sequences, example_sequences, example_positions, raw_ages = [], [], [], []
    counts = np.zeros(len(items), dtype=np.int64)
    for number, sequence in enumerate(timed):
        coded = np.array([index[item] for _, item in sequence], dtype=np.int64)
        np.add.at(counts, coded, 1)
        sequences.append(coded)
        positions = np.arange(1, len(coded), dtype=np.int64)
        example_sequences.append(np.full(len(positions), number, dtype=np.int64))
        example_positions.append(positions)
        raw_ages.append(end - np.array([t for t, _ in sequence[1:]], dtype=np.float64))
    ages = np.concatenate(raw_ages)
    largest = ages.max() if len(ages) else 0
    ages = (ages / largest if largest > 0 else ages * 0).astype(np.float32)
    return (sequences, np.concatenate(example_sequences), np.concatenate(example_positions), ages, len(items),
            counts)


class YouTubeDNN(torch.nn.Module):
    def __init__(self, items, width):
        super().__init__()
        self.inputs = torch.nn.EmbeddingBag(items, width, mode="mean", sparse=True)
        self.tower = torch.nn.Linear(width + 3, width)
        self.outputs = torch.nn.Embedding(items, width, sparse=True)
        self.biases = torch.nn.Embedding(items, 1, sparse=True)
        torch.nn.init.normal_(self.inputs.weight, std=0.01)
        torch.nn.init.normal_(self.outputs.weight, std=0.05)
        torch.nn.init.zeros_(self.biases.weight)

    def forward(self, histories, offsets, ages, targets, negatives, log_q):
        features = torch.stack([ages, ages * ages, ages.sqrt()], dim=1)
        users = torch.relu(self.tower(torch.cat([self.inputs(histories, offsets), features], dim=1)))
        positive = (users * self.outputs(targets)).sum(-1, keepdim=True) + self.biases(targets)
        negative = users @ self.outputs(negatives).T + self.biases(negatives).T
        logits = torch.cat([positive, negative], dim=1) - log_q
        return torch.nn.functional.cross_entropy(logits, torch.zeros(len(targets), dtype=torch.long))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ratings", required=True)
    parser.add_argument("--time-epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--negatives", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--warm-up-batches", type=int, default=None,
                        help="batches trained before timing (default: a whole epoch)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    sequences, example_sequences, example_positions, ages, items, counts = examples_from(args.ratings)
    history = 50
    weights = counts.astype(np.float64) ** 0.75
    probabilities = torch.tensor(weights / weights.sum())
    log_probabilities = probabilities.log().float()
    model = YouTubeDNN(items, 64)
    sparse = [model.inputs.weight, model.outputs.weight, model.biases.weight]
    optimizers = [torch.optim.SparseAdam(sparse, lr=0.001), torch.optim.Adam(model.tower.parameters(), lr=0.001)]
    generator = np.random.default_rng(0)

    def epoch(batches=None):
        order = generator.permutation(len(ages))
        starts = range(0, len(order), args.batch)
        for start in starts if batches is None else starts[:batches]:
            rows = order[start:start + args.batch]
            parts, targets = [], []
            for sequence, position in zip(example_sequences[rows], example_positions[rows]):
                coded = sequences[sequence]
                parts.append(coded[max(0, position - history):position])
                targets.append(coded[position])
            batch_offsets = torch.tensor(np.concatenate([[0], np.cumsum([len(p) for p in parts])[:-1]]))
            batch_targets = torch.tensor(targets)
            negatives = torch.multinomial(probabilities, args.negatives, replacement=True)
            log_q = torch.cat([log_probabilities[batch_targets].unsqueeze(1),
                               log_probabilities[negatives].unsqueeze(0).expand(len(rows), -1)], dim=1)
            hits = negatives.unsqueeze(0) == batch_targets.unsqueeze(1)
            log_q[:, 1:] = log_q[:, 1:] + hits.float() * 1e9
            loss = model(torch.from_numpy(np.concatenate(parts)), batch_offsets, torch.from_numpy(ages[rows]),
                         batch_targets, negatives, log_q)
            for optimizer in optimizers:
                optimizer.zero_grad()
            loss.backward()
            for optimizer in optimizers:
                optimizer.step()
            if not math.isfinite(loss.item()):
                raise SystemExit("loss diverged")

    epoch(args.warm_up_batches)  # warm-up
    started = time.perf_counter()
    for number in range(args.time_epochs):
        epoch()
        print(f"epoch {number + 1}: {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    seconds = (time.perf_counter() - started) / args.time_epochs
    print(json.dumps({"model": "youtubednn", "examples": int(len(ages)), "items": items,
                      "seconds_per_epoch": round(seconds, 4), "threads": args.threads}))


if __name__ == "__main__":
    main()

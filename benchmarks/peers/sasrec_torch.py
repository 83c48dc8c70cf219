"""A plain PyTorch SASRec (Kang and McAuley 2018) with RecKit's `sasrec` network and settings: the
reference its epoch time is measured against.

Network: item embeddings (a padding row) × √d plus learned positions, dropout, `blocks` pre-norm
transformer blocks (x + attention(LN x) with a causal mask; x + FFN(LN x), FFN = linear → ReLU →
dropout → linear; dropout after attention and FFN; padded positions zeroed after each block), a
final layer norm. Each user's last L + 1 items give L (input, next item) positions, left-padded;
binary cross-entropy on the next item against one uniformly drawn item the user never had, over the
real positions. Adam (β₂ 0.98), batches of 128 users.

    python benchmarks/peers/sasrec_torch.py --ratings ../shared/data/ml-latest-small-2016/ratings.csv \
        --time-epochs 3 --threads 2
"""

import argparse
import csv
import json
import time

import numpy as np
import torch
import torch.nn.functional as F


def sequences_from(path):
    """Each user's items by (time, item) without the last one (leave-last-out's training part)."""
    rows = {}
    with open(path) as handle:
        reader = csv.reader(handle)
        header = next(reader)
        user_column, item_column = header.index("userId"), header.index("movieId")
        time_column = header.index("timestamp")
        for fields in reader:
            rows.setdefault(int(fields[user_column]), []).append((int(fields[time_column]), int(fields[item_column])))
    items = sorted({item for pairs in rows.values() for _, item in pairs})
    index = {item: n for n, item in enumerate(items)}
    sequences = [[index[item] for _, item in sorted(rows[user])][:-1] for user in sorted(rows)]
    return sequences, len(items)


class Block(torch.nn.Module):
    def __init__(self, width, heads, dropout):
        super().__init__()
        self.attention_norm = torch.nn.LayerNorm(width, eps=1e-8)
        self.attention = torch.nn.MultiheadAttention(width, heads, batch_first=True)
        self.feed_forward_norm = torch.nn.LayerNorm(width, eps=1e-8)
        self.feed_forward = torch.nn.Sequential(
            torch.nn.Linear(width, width), torch.nn.ReLU(), torch.nn.Dropout(dropout), torch.nn.Linear(width, width))
        self.dropout1 = torch.nn.Dropout(dropout)
        self.dropout2 = torch.nn.Dropout(dropout)

    def forward(self, x, causal, mask):
        q = self.attention_norm(x)
        attended, _ = self.attention(q, q, q, attn_mask=causal, need_weights=False)
        x = x + self.dropout1(attended)
        return (x + self.dropout2(self.feed_forward(self.feed_forward_norm(x)))) * mask


class SASRec(torch.nn.Module):
    def __init__(self, items, width, blocks, heads, length, dropout):
        super().__init__()
        self.items, self.width, self.length = items, width, length
        self.embedding = torch.nn.Embedding(items + 1, width, padding_idx=items)
        self.positions = torch.nn.Embedding(length, width)
        self.dropout = torch.nn.Dropout(dropout)
        self.blocks = torch.nn.ModuleList([Block(width, heads, dropout) for _ in range(blocks)])
        self.final_norm = torch.nn.LayerNorm(width, eps=1e-8)
        self.register_buffer("causal", torch.triu(torch.ones(length, length, dtype=torch.bool), diagonal=1))

    def forward(self, inputs):
        mask = (inputs != self.items).unsqueeze(-1).float()
        positions = torch.arange(self.length).unsqueeze(0)
        x = self.dropout((self.embedding(inputs) * self.width**0.5 + self.positions(positions)) * mask)
        for block in self.blocks:
            x = block(x, self.causal, mask)
        return self.final_norm(x)


def batch_tensors(sequences, users, length, items, rng):
    inputs = np.full((len(users), length), items, dtype=np.int64)
    positives = np.full((len(users), length), -1, dtype=np.int64)
    negatives = np.zeros((len(users), length), dtype=np.int64)
    for row, user in enumerate(users):
        window = sequences[user][-(length + 1):]
        n = len(window) - 1
        inputs[row, length - n:] = window[:-1]
        positives[row, length - n:] = window[1:]
        seen = set(sequences[user])
        for column in range(length - n, length):
            negative = rng.integers(items)
            while negative in seen:
                negative = rng.integers(items)
            negatives[row, column] = negative
    return torch.from_numpy(inputs), torch.from_numpy(positives), torch.from_numpy(negatives)


def train_epoch(model, optimizer, sequences, args, rng):
    users = [u for u in rng.permutation(len(sequences)) if len(sequences[u]) >= 2]
    for start in range(0, len(users), args.batch_size):
        inputs, positives, negatives = batch_tensors(
            sequences, users[start : start + args.batch_size], args.max_length, model.items, rng)
        states = model(inputs)
        real = positives >= 0
        h = states[real]
        table = model.embedding.weight
        positive = (h * table[positives[real]]).sum(-1)
        negative = (h * table[negatives[real]]).sum(-1)
        loss = F.binary_cross_entropy_with_logits(positive, torch.ones_like(positive)) + \
            F.binary_cross_entropy_with_logits(negative, torch.zeros_like(negative))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratings", required=True, help="a MovieLens ratings.csv")
    parser.add_argument("--factors", type=int, default=50)
    parser.add_argument("--blocks", type=int, default=2)
    parser.add_argument("--heads", type=int, default=1)
    parser.add_argument("--max-length", type=int, default=200)
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=0.001)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--time-epochs", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    sequences, items = sequences_from(args.ratings)
    model = SASRec(items, args.factors, args.blocks, args.heads, args.max_length, args.dropout)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.learning_rate, betas=(0.9, 0.98))
    model.train()
    train_epoch(model, optimizer, sequences, args, rng)  # warm-up
    start = time.perf_counter()
    for _ in range(args.time_epochs):
        train_epoch(model, optimizer, sequences, args, rng)
    print(json.dumps({"model": "sasrec-torch", "seconds_per_epoch": (time.perf_counter() - start) / args.time_epochs,
                      "threads": args.threads, "torch": torch.__version__}))


if __name__ == "__main__":
    main()

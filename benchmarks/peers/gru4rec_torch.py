"""A plain PyTorch GRU4Rec (Hidasi et al. 2016): the reference RecKit's `gru4rec` is measured against,
for accuracy (Recall@20 / MRR@20 of the next-item protocol) and for speed (seconds per epoch at the
same network and settings).

The network and training are RecKit's defaults: one-hot input (the input weights looked up by item),
one GRU layer of 100 units, an output table and bias over all items, full softmax cross-entropy on the
next click, session-parallel mini-batches of 32 (hidden state carried between steps, detached, reset
where a lane starts a new session; sessions shuffled every epoch), Adam 1e-3. The epoch count (at most
20) is chosen by Recall@20 on the validation file with patience 3, training on the training file
without the validation sessions; then the model trains on the whole training file for that many
epochs and is measured once on the test file. Evaluation: every prefix of every test session predicts
the next click among all training items, nothing excluded, ties counted against the target (rank = 1 +
#higher + #equal at a lower index; items indexed by ascending numeric ID, as RecKit does).

    python benchmarks/peers/gru4rec_torch.py --data ../shared/data/yoochoose-rsc15-100k-sessionrec --threads 2
    python benchmarks/peers/gru4rec_torch.py --data ... --time-epochs 3     # speed only
"""

import argparse
import json
import os
import time

import numpy as np
import torch
import torch.nn.functional as F


def read_sessions(path):
    """Sessions in file order of first appearance, each a list of item IDs by (time, file order)."""
    sessions, order = {}, []
    with open(path) as handle:
        header = handle.readline().rstrip("\n").split("\t")
        columns = [header.index(name) for name in ("SessionId", "ItemId", "Time")]
        for line in handle:
            fields = line.rstrip("\n").split("\t")
            session, item, stamp = (fields[c] for c in columns)
            if session not in sessions:
                sessions[session] = []
                order.append(session)
            sessions[session].append((int(float(stamp)), len(sessions[session]), item))
    return {s: [item for _, _, item in sorted(sessions[s])] for s in order}


def index_sessions(sessions, index):
    """Sessions over known items only, at least two clicks left."""
    out = []
    for items in sessions.values():
        kept = [index[i] for i in items if i in index]
        if len(kept) >= 2:
            out.append(kept)
    return out


class GRU4Rec(torch.nn.Module):
    def __init__(self, items, hidden):
        super().__init__()
        self.hidden = hidden
        self.input = torch.nn.Embedding(items, 3 * hidden)  # one-hot input: a row of W_x per item
        self.input_bias = torch.nn.Parameter(torch.zeros(3 * hidden))
        self.state = torch.nn.Linear(hidden, 3 * hidden, bias=False)
        self.output = torch.nn.Embedding(items, hidden)
        self.output_bias = torch.nn.Parameter(torch.zeros(items))
        for table in (self.input.weight, self.state.weight, self.output.weight):
            torch.nn.init.xavier_uniform_(table)

    def step(self, items, h):
        x = self.input(items) + self.input_bias
        s = self.state(h)
        size = self.hidden
        r = torch.sigmoid(x[:, :size] + s[:, :size])
        z = torch.sigmoid(x[:, size : 2 * size] + s[:, size : 2 * size])
        n = torch.tanh(x[:, 2 * size :] + r * s[:, 2 * size :])
        return (1 - z) * n + z * h

    def logits(self, h):
        return h @ self.output.weight.T + self.output_bias


def schedule(sessions, order, batch):
    """Session-parallel steps: (lanes, inputs, targets, starts) as RecKit's SessionParallelStep."""
    queue = iter(order)
    current = [next(queue, None) for _ in range(batch)]
    position = [0] * batch
    while True:
        lanes, inputs, targets, starts = [], [], [], []
        for lane in range(batch):
            s = current[lane]
            if s is None:
                continue
            items = sessions[s]
            lanes.append(lane)
            inputs.append(items[position[lane]])
            targets.append(items[position[lane] + 1])
            starts.append(position[lane] == 0)
            position[lane] += 1
            if position[lane] + 1 >= len(items):
                current[lane] = next(queue, None)
                position[lane] = 0
        if not lanes:
            return
        yield lanes, inputs, targets, starts


def train_epoch(model, optimizer, sessions, batch, rng):
    order = rng.permutation(len(sessions))
    lanes_state = torch.zeros(batch, model.hidden)
    total, steps = 0.0, 0
    for lanes, inputs, targets, starts in schedule(sessions, order, batch):
        lanes = torch.tensor(lanes)
        h = lanes_state[lanes].clone()
        h[torch.tensor(starts)] = 0
        h = model.step(torch.tensor(inputs), h)
        lanes_state[lanes] = h.detach()
        loss = F.cross_entropy(model.logits(h), torch.tensor(targets))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item()
        steps += 1
    return total / max(1, steps)


@torch.no_grad()
def evaluate(model, sessions, k=20, batch=512):
    """Recall@k and MRR@k over every prefix (a GRU carries its state along the session)."""
    hits = reciprocal = cases = 0
    for start in range(0, len(sessions), batch):
        chunk = sessions[start : start + batch]
        longest = max(len(s) for s in chunk)
        h = torch.zeros(len(chunk), model.hidden)
        for t in range(longest - 1):
            rows = [i for i, s in enumerate(chunk) if len(s) > t + 1]
            rows_t = torch.tensor(rows)
            h_rows = model.step(torch.tensor([chunk[i][t] for i in rows]), h[rows_t])
            h[rows_t] = h_rows
            scores = model.logits(h_rows)
            targets = torch.tensor([chunk[i][t + 1] for i in rows])
            target_scores = scores[torch.arange(len(rows)), targets].unsqueeze(1)
            columns = torch.arange(scores.shape[1]).unsqueeze(0)
            earlier_ties = (scores == target_scores) & (columns < targets.unsqueeze(1))
            ranks = 1 + (scores > target_scores).sum(1) + earlier_ties.sum(1)
            hit = ranks <= k
            hits += hit.sum().item()
            zero = torch.zeros_like(ranks, dtype=torch.float64)
            reciprocal += torch.where(hit, 1.0 / ranks.double(), zero).sum().item()
            cases += len(rows)
    return hits / cases, reciprocal / cases, cases


def fit(train, items, args, epochs, validation=None):
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = GRU4Rec(items, args.hidden)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.learning_rate)
    best, best_epoch, since, best_state = -1.0, None, 0, None
    for epoch in range(1, epochs + 1):
        loss = train_epoch(model, optimizer, train, args.batch_size, rng)
        if validation is None:
            continue
        recall, mrr, _ = evaluate(model, validation)
        line = {"epoch": epoch, "loss": loss, "validation_recall@20": recall, "validation_mrr@20": mrr}
        print(json.dumps(line), flush=True)
        if recall > best:
            best, best_epoch, since = recall, epoch, 0
        else:
            since += 1
            if since >= args.patience:
                break
    return model, best_epoch


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="folder with PREFIX_{train_full,train_valid,test}.txt")
    parser.add_argument("--prefix", default="yoochoose-clicks-100k")
    parser.add_argument("--hidden", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=0.001)
    parser.add_argument("--epochs", type=int, default=20, help="the most epochs")
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--time-epochs", type=int, default=0, help="only time this many epochs on the training file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    path = lambda part: os.path.join(args.data, f"{args.prefix}_{part}.txt")
    train_full = read_sessions(path("train_full"))
    ids = sorted({i for s in train_full.values() for i in s}, key=int)
    index = {item: n for n, item in enumerate(ids)}
    train = index_sessions(train_full, index)
    if args.time_epochs:
        torch.manual_seed(args.seed)
        rng = np.random.default_rng(args.seed)
        model = GRU4Rec(len(ids), args.hidden)
        optimizer = torch.optim.Adam(model.parameters(), lr=args.learning_rate)
        train_epoch(model, optimizer, train, args.batch_size, rng)  # warm-up
        start = time.perf_counter()
        for _ in range(args.time_epochs):
            train_epoch(model, optimizer, train, args.batch_size, rng)
        seconds = (time.perf_counter() - start) / args.time_epochs
        print(json.dumps({"model": "gru4rec-torch", "seconds_per_epoch": seconds,
                          "threads": args.threads, "torch": torch.__version__}))
        return
    valid_sessions = read_sessions(path("train_valid"))
    fit_part = {s: items for s, items in train_full.items() if s not in valid_sessions}
    fit_ids = {i for s in fit_part.values() for i in s}
    fit_index = {item: index[item] for item in fit_ids}
    validation = index_sessions(valid_sessions, fit_index)
    start = time.perf_counter()
    _, best_epoch = fit(index_sessions(fit_part, index), len(ids), args, args.epochs, validation)
    model, _ = fit(train, len(ids), args, best_epoch)
    seconds = time.perf_counter() - start
    recall, mrr, cases = evaluate(model, index_sessions(read_sessions(path("test")), index))
    print(json.dumps({"model": "gru4rec-torch", "epochs": best_epoch, "recall@20": recall, "mrr@20": mrr,
                      "cases": cases, "fit_seconds": seconds, "seed": args.seed, "torch": torch.__version__}))


if __name__ == "__main__":
    main()

"""A plain PyTorch Mult-VAE / Mult-DAE (Liang et al., WWW 2018), following the paper's code: the
reference RecKit's `multvae` and `multdae` are measured against, for accuracy (NDCG@10 on a split
folder) and for speed (seconds per epoch at the same network and batch size).

I -> 600 -> 200 -> 600 -> I with tanh, input x/||x|| then dropout 0.5, multinomial log-likelihood;
Mult-DAE adds lambda * sum ||W||^2 (lambda 0.01), Mult-VAE beta * KL with beta annealed linearly to 0.2
over all updates of the most epochs. Adam 1e-3, batches of 500 users. The epoch count is chosen on a
per-user 20 % holdout of the training file (users with at least 5 items; NDCG@10 with the fit items
excluded; patience 30), then the model trains on the whole training file for that many epochs: the
protocol of RecKit's EpochChoice. Never on the test file.

    python benchmarks/peers/multvae_torch.py --split-dir ../shared/peers/splits/ml-latest-small-2016/\
topn_user_holdout20_all_ratings_seed42 --model dae --threads 2
    python benchmarks/peers/multvae_torch.py --split-dir ... --model vae --time-epochs 5   # speed only
"""

import argparse
import json
import time

import numpy as np
import torch
import torch.nn.functional as F


def read(path):
    rows = np.loadtxt(path, dtype=np.int64, usecols=(0, 1), ndmin=2)
    return rows[:, 0], rows[:, 1]


class Network(torch.nn.Module):
    def __init__(self, items, hidden, factors, variational):
        super().__init__()
        self.variational = variational
        self.factors = factors
        self.encoder = torch.nn.Linear(items, hidden)
        self.latent = torch.nn.Linear(hidden, 2 * factors if variational else factors)
        self.decoder_hidden = torch.nn.Linear(factors, hidden)
        self.decoder_output = torch.nn.Linear(hidden, items)
        for layer in (self.encoder, self.latent, self.decoder_hidden, self.decoder_output):
            torch.nn.init.xavier_uniform_(layer.weight)
            torch.nn.init.zeros_(layer.bias)

    def forward(self, x, dropout):
        h = F.dropout(F.normalize(x), p=dropout, training=dropout > 0)
        h = torch.tanh(self.encoder(h))
        if not self.variational:
            z = torch.tanh(self.latent(h))
            return self.decoder_output(torch.tanh(self.decoder_hidden(z))), None
        statistics = self.latent(h)
        mu, logvar = statistics[:, : self.factors], statistics[:, self.factors :]
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu) if dropout > 0 else mu
        kl = (-0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=1)).mean()
        return self.decoder_output(torch.tanh(self.decoder_hidden(z))), kl

    def weights(self):
        return [self.encoder.weight, self.latent.weight, self.decoder_hidden.weight, self.decoder_output.weight]


def ndcg_at_10(network, fit, relevant, users):
    network.eval()
    total = 0.0
    with torch.no_grad():
        for start in range(0, len(users), 500):
            batch = users[start : start + 500]
            x = fit[batch]
            logits = network(x, 0)[0]
            logits[x > 0] = -np.inf
            top = torch.topk(logits, 10, dim=1).indices.numpy()
            for row, user in enumerate(batch):
                hits = [1.0 / np.log2(rank + 2) for rank, item in enumerate(top[row]) if item in relevant[user]]
                ideal = sum(1.0 / np.log2(rank + 2) for rank in range(min(10, len(relevant[user]))))
                total += sum(hits) / ideal
    network.train()
    return total / len(users)


def train(matrix, args, epochs, validation=None):
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    network = Network(matrix.shape[1], 600, 200, args.model == "vae")
    optimizer = torch.optim.Adam(network.parameters(), lr=1e-3)
    active = np.flatnonzero(matrix.sum(dim=1).numpy() > 0)
    # β reaches its cap over all updates of the most epochs, in the choice and in the refit alike.
    total_steps = args.epochs * ((len(active) + args.batch_size - 1) // args.batch_size)
    step, best, best_epoch, seconds = 0, -1.0, 0, []
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        order = np.random.permutation(active)
        for first in range(0, len(order), args.batch_size):
            x = matrix[order[first : first + args.batch_size]]
            step += 1
            logits, kl = network(x, 0.5)
            loss = -(F.log_softmax(logits, dim=1) * x).sum(dim=1).mean()
            if kl is None:
                loss = loss + 0.01 * sum(w.pow(2).sum() for w in network.weights())
            else:
                loss = loss + min(0.2, 0.2 * step / total_steps) * kl
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        seconds.append(time.perf_counter() - start)
        if validation is not None:
            value = ndcg_at_10(network, matrix, *validation)
            if value > best:
                best, best_epoch = value, epoch
            elif epoch - best_epoch >= args.patience:
                break
    return network, best_epoch, seconds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--split-dir", required=True)
    parser.add_argument("--model", choices=["vae", "dae"], default="dae")
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--patience", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--time-epochs", type=int, default=0, help="only time this many epochs (median)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    train_users, train_items = read(args.split_dir + "/train.tsv")
    test_users, test_items = read(args.split_dir + "/test.tsv")
    user_ids = {u: i for i, u in enumerate(sorted(set(train_users) | set(test_users)))}
    item_ids = {v: i for i, v in enumerate(sorted(set(train_items) | set(test_items)))}
    u = np.array([user_ids[x] for x in train_users])
    i = np.array([item_ids[x] for x in train_items])
    matrix = torch.zeros(len(user_ids), len(item_ids))
    matrix[u, i] = 1
    if args.time_epochs:
        _, _, seconds = train(matrix, args, args.time_epochs)
        print(json.dumps({"model": "mult" + args.model, "threads": args.threads, "batch_size": args.batch_size,
                          "seconds_per_epoch": float(np.median(seconds))}))
        return
    # Validation: 20 % of each training user's items (users with >= 5), seeded.
    rng = np.random.default_rng(args.seed)
    fit = matrix.clone()
    held = {}
    for user in range(matrix.shape[0]):
        items = np.flatnonzero(matrix[user].numpy())
        if len(items) >= 5:
            chosen = rng.choice(items, size=max(1, round(0.2 * len(items))), replace=False)
            fit[user, chosen] = 0
            held[user] = set(chosen.tolist())
    users = sorted(held)
    _, best_epoch, _ = train(fit, args, args.epochs, (held, users))
    network, _, _ = train(matrix, args, best_epoch)
    relevant = {}
    for user, item in zip(test_users, test_items):
        relevant.setdefault(user_ids[user], set()).add(item_ids[item])
    test = sorted(relevant)
    print(json.dumps({"model": "mult" + args.model, "seed": args.seed, "epochs": best_epoch,
                      "ndcg@10": round(ndcg_at_10(network, matrix, relevant, test), 4)}))


if __name__ == "__main__":
    main()

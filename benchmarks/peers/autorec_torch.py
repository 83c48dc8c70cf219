"""A plain PyTorch I-AutoRec / U-AutoRec (Sedhain et al. 2015): the reference RecKit's `autorec` is
measured against, for accuracy (RMSE on ml-100k u1) and for speed (seconds per full-batch iteration).

Full-batch Rprop (torch.optim.Rprop's defaults: iRprop-, etas 0.5/1.2, steps 1e-6..50) on
sum over observed (r - r_hat)^2 + lambda/2 (||V||^2 + ||W||^2), as the paper trains it.
Settings (lambda, iterations) are chosen on a seeded 10 % of the training file, never on the test file.

    python benchmarks/peers/autorec_torch.py --train ../shared/data/ml-100k/u1.base \
        --test ../shared/data/ml-100k/u1.test --threads 2
"""

import argparse
import json
import time

import numpy as np
import torch


def read(path):
    rows = np.loadtxt(path, dtype=np.int64, usecols=(0, 1, 2))
    return rows[:, 0], rows[:, 1], rows[:, 2].astype(np.float32)


def matrices(users, items, ratings, user_ids, item_ids, variant):
    u = np.array([user_ids[x] for x in users])
    i = np.array([item_ids[x] for x in items])
    rows, cols = (i, u) if variant == "item" else (u, i)
    shape = (len(item_ids), len(user_ids)) if variant == "item" else (len(user_ids), len(item_ids))
    values = torch.zeros(shape)
    mask = torch.zeros(shape)
    values[rows, cols] = torch.from_numpy(ratings)
    mask[rows, cols] = 1
    return values, mask


class AutoRec(torch.nn.Module):
    def __init__(self, columns, hidden):
        super().__init__()
        self.encoder = torch.nn.Linear(columns, hidden)
        self.decoder = torch.nn.Linear(hidden, columns)

    def forward(self, x):
        return self.decoder(torch.sigmoid(self.encoder(x)))


def train(values, mask, hidden, lam, iterations, seed, watch=None):
    torch.manual_seed(seed)
    model = AutoRec(values.shape[1], hidden)
    optimizer = torch.optim.Rprop(model.parameters())
    history, seconds = [], []
    for _ in range(iterations):
        start = time.perf_counter()
        optimizer.zero_grad()
        error = (model(values) - values) * mask
        loss = (error ** 2).sum() + lam / 2 * (model.encoder.weight.pow(2).sum() + model.decoder.weight.pow(2).sum())
        loss.backward()
        optimizer.step()
        seconds.append(time.perf_counter() - start)
        if watch is not None:
            history.append(rmse(model, values, *watch))
    return model, history, seconds


def rmse(model, values, test_values, test_mask, low=1.0, high=5.0, fallback=None):
    with torch.no_grad():
        predicted = model(values).clamp(low, high)
        known = mask_rows(values)
        if fallback is not None:
            predicted = torch.where(known[:, None], predicted, torch.full_like(predicted, fallback))
        error = ((predicted - test_values) * test_mask) ** 2
        return float((error.sum() / test_mask.sum()).sqrt())


def mask_rows(values):
    return (values != 0).any(dim=1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--train", required=True)
    parser.add_argument("--test", required=True)
    parser.add_argument("--variant", default="item", choices=["item", "user"])
    parser.add_argument("--hidden", type=int, default=500)
    parser.add_argument("--lambdas", default="1,10,30,100,300")
    parser.add_argument("--iterations", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--time-steps", type=int, default=0,
                        help="only time this many full-batch steps on all of --train with the first lambda")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    users, items, ratings = read(args.train)
    if args.time_steps:
        user_ids = {x: n for n, x in enumerate(sorted(set(users)))}
        item_ids = {x: n for n, x in enumerate(sorted(set(items)))}
        values, mask = matrices(users, items, ratings, user_ids, item_ids, args.variant)
        lam = float(args.lambdas.split(",")[0])
        _, _, seconds = train(values, mask, args.hidden, lam, args.time_steps, args.seed)
        print(json.dumps({"benchmark": "autorec-step", "implementation": f"PyTorch {torch.__version__} (dense)",
                          "steps": args.time_steps, "seconds_per_step": float(np.median(seconds)),
                          "threads": args.threads}))
        return
    test_users, test_items, test_ratings = read(args.test)
    user_ids = {x: n for n, x in enumerate(sorted(set(users)))}
    item_ids = {x: n for n, x in enumerate(sorted(set(items)))}
    mean = float(ratings.mean())

    # Validation: a seeded 10 % of the training ratings.
    order = np.random.default_rng(args.seed).permutation(len(ratings))
    cut = len(ratings) // 10
    held, kept = order[:cut], order[cut:]
    fit_values, fit_mask = matrices(users[kept], items[kept], ratings[kept], user_ids, item_ids, args.variant)
    validation = matrices(users[held], items[held], ratings[held], user_ids, item_ids, args.variant)
    best = None
    for lam in [float(x) for x in args.lambdas.split(",")]:
        _, history, _ = train(fit_values, fit_mask, args.hidden, lam, args.iterations, args.seed,
                              watch=(validation[0], validation[1]))
        iteration = int(np.argmin(history)) + 1
        print(json.dumps({"lambda": lam, "best_iteration": iteration, "validation_rmse": round(min(history), 4)}),
              flush=True)
        if best is None or min(history) < best[0]:
            best = (min(history), lam, iteration)

    _, lam, iteration = best
    values, mask = matrices(users, items, ratings, user_ids, item_ids, args.variant)
    model, _, seconds = train(values, mask, args.hidden, lam, iteration, args.seed)
    known = [(u, i, r) for u, i, r in zip(test_users, test_items, test_ratings) if u in user_ids and i in item_ids]
    test = matrices(np.array([k[0] for k in known]), np.array([k[1] for k in known]),
                    np.array([k[2] for k in known], dtype=np.float32), user_ids, item_ids, args.variant)
    # Test ratings of unseen users or items are scored with the global mean.
    unknown = [r for u, i, r in zip(test_users, test_items, test_ratings) if not (u in user_ids and i in item_ids)]
    with torch.no_grad():
        predicted = model(values).clamp(float(ratings.min()), float(ratings.max()))
        predicted = torch.where(mask_rows(values)[:, None], predicted, torch.full_like(predicted, mean))
        squared = float((((predicted - test[0]) * test[1]) ** 2).sum()) + sum((r - mean) ** 2 for r in unknown)
    result = {
        "model": f"{args.variant}-autorec (PyTorch {torch.__version__}, Rprop full batch)",
        "hidden": args.hidden, "lambda": lam, "iterations": iteration,
        "rmse": round(float(squared / len(test_ratings)) ** 0.5, 4),
        "seconds_per_iteration": round(float(np.median(seconds)), 4), "threads": args.threads,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()

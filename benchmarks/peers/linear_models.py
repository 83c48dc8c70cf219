"""Plain numpy/scipy/scikit-learn implementations of RP3beta, EDLAE and SLIM, the references
RecKit's `rp3beta`, `edlae` and `slim` are checked against (NDCG@10 on a split folder, to 4
decimals at fixed settings) and, for SLIM, timed against (scikit-learn's ElasticNet fitted item
by item, the way Dacrema et al. 2019 run SLIM).

Each definition on the binary user x item matrix X (n users) of train.tsv:
  rp3beta  W[i, j] = deg(i)^-a * sum_u x_ui deg(u)^-a x_uj * deg(j)^-b (i != j); each row keeps its
           K largest (equal weights: the item with more interactions, then the lower index), then
           (normalize) is scaled to sum to 1.
  edlae    B = I - P diag(1/diag P), P = (X'X + p/(1-p) diag(X'X) + lambda I)^-1.
  slim     column j: ElasticNet(alpha, l1_ratio, positive=True, fit_intercept=False) of x_j on X
           with column j zeroed; each column keeps its K largest weights.
Scores are x_u W; users' training items excluded; ties to the lower item index (peers' common.py).

    python benchmarks/peers/linear_models.py --split-dir ../shared/peers/splits/ml-100k/\
topn_user_holdout20_all_ratings_seed42 --model slim --alpha 0.001 --l1-ratio 0.1 --tolerance 1e-6
"""

import argparse
import json
import time

import numpy as np
import scipy.sparse as sp


def load(split_dir):
    train = np.loadtxt(f"{split_dir}/train.tsv", dtype=np.int64, usecols=(0, 1), ndmin=2)
    test = np.loadtxt(f"{split_dir}/test.tsv", dtype=np.int64, usecols=(0, 1), ndmin=2)
    users, user_index = np.unique(np.r_[train[:, 0], test[:, 0]], return_inverse=True)
    items, item_index = np.unique(np.r_[train[:, 1], test[:, 1]], return_inverse=True)
    n_train = len(train)

    def matrix(rows, columns):
        m = sp.csr_matrix((np.ones(len(rows)), (rows, columns)), shape=(len(users), len(items)))
        m.data[:] = 1.0  # binary
        return m

    return (matrix(user_index[:n_train], item_index[:n_train]),
            matrix(user_index[n_train:], item_index[n_train:]))


def ndcg_at_10(scores, train, test):
    users = np.flatnonzero(np.diff(test.indptr) > 0)
    total = 0.0
    discount = 1.0 / np.log2(np.arange(2, 12))
    for start in range(0, len(users), 512):
        batch = users[start:start + 512]
        s = np.array(scores(batch), dtype=np.float64)
        rows = train[batch]
        s[np.repeat(np.arange(len(batch)), np.diff(rows.indptr)), rows.indices] = -np.inf
        top = np.argsort(-s, axis=1, kind="stable")[:, :10]
        for row, user in enumerate(batch):
            held = test.indices[test.indptr[user]:test.indptr[user + 1]]
            hits = np.isin(top[row], held)
            total += (hits * discount).sum() / discount[:min(10, len(held))].sum()
    return total / len(users)


def keep_largest(dense_rows, k, support):
    """Row-wise top-k of a dense block (zeros dropped); ties: more support, then lower index."""
    kept = []
    for row in dense_rows:
        nonzero = np.flatnonzero(row)
        order = np.lexsort((nonzero, -support[nonzero], -row[nonzero]))[:k]
        kept.append((nonzero[order], row[nonzero[order]]))
    return kept


def rp3beta(x, k, alpha, beta, normalize):
    n_items = x.shape[1]
    item_degree = np.asarray(x.sum(axis=0)).ravel()
    user_degree = np.asarray(x.sum(axis=1)).ravel()
    with np.errstate(divide="ignore"):
        user_power = np.where(user_degree > 0, user_degree ** -alpha, 0.0)
        row_power = np.where(item_degree > 0, item_degree ** -alpha, 0.0)
        candidate_power = np.where(item_degree > 0, item_degree ** -beta, 0.0)
    walk = (x.T @ sp.diags(user_power) @ x).toarray()  # sum_u x_ui deg(u)^-a x_uj
    w = walk * row_power[:, None] * candidate_power[None, :]
    np.fill_diagonal(w, 0)
    rows, columns, values = [], [], []
    for i, (kept, weights) in enumerate(keep_largest(w, k, item_degree)):
        if normalize and weights.sum() > 0:
            weights = weights / np.abs(weights).sum()
        rows += [i] * len(kept)
        columns += list(kept)
        values += list(weights)
    return sp.csr_matrix((values, (rows, columns)), shape=(n_items, n_items))


def edlae(x, dropout, regularization):
    gram = (x.T @ x).toarray()
    diagonal = np.diag(gram).copy()
    gram[np.diag_indices_from(gram)] += dropout / (1 - dropout) * diagonal + regularization
    p = np.linalg.inv(gram)
    b = -p / np.diag(p)[None, :]
    np.fill_diagonal(b, 0)
    return b


def slim(x, alpha, l1_ratio, k, tolerance, iterations):
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import ElasticNet

    warnings.filterwarnings("ignore", category=ConvergenceWarning)  # counted below instead
    x = sp.csc_matrix(x, dtype=np.float64)
    n_items = x.shape[1]
    model = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, positive=True, fit_intercept=False, copy_X=False,
                       precompute=False, selection="cyclic", max_iter=iterations, tol=tolerance)
    rows, columns, values = [], [], []
    unconverged = 0
    for j in range(n_items):
        y = x[:, j].toarray().ravel()
        start, end = x.indptr[j], x.indptr[j + 1]
        saved = x.data[start:end].copy()
        x.data[start:end] = 0.0
        model.fit(x, y)
        x.data[start:end] = saved
        unconverged += model.n_iter_ >= iterations
        coefficients = model.coef_
        nonzero = np.flatnonzero(coefficients > 0)
        order = np.lexsort((nonzero, -coefficients[nonzero]))[:k]
        rows += list(nonzero[order])
        columns += [j] * len(order)
        values += list(coefficients[nonzero[order]])
    return sp.csr_matrix((values, (rows, columns)), shape=(n_items, n_items)), unconverged


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split-dir", required=True)
    parser.add_argument("--model", choices=["rp3beta", "edlae", "slim"], required=True)
    parser.add_argument("--neighbors", type=int, default=100)
    parser.add_argument("--alpha", type=float)
    parser.add_argument("--beta", type=float, default=0.6)
    parser.add_argument("--normalize", choices=["true", "false"], default="true")
    parser.add_argument("--dropout", type=float, default=0.25)
    parser.add_argument("--regularization", type=float, default=10.0)
    parser.add_argument("--l1-ratio", type=float, default=0.1)
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("--max-iterations", type=int, default=100)
    args = parser.parse_args()
    train, test = load(args.split_dir)
    unconverged = 0
    started = time.perf_counter()
    if args.model == "rp3beta":
        w = rp3beta(train, args.neighbors, 1.0 if args.alpha is None else args.alpha, args.beta,
                    args.normalize == "true")
    elif args.model == "edlae":
        w = edlae(train, args.dropout, args.regularization)
    else:
        w, unconverged = slim(train, 0.01 if args.alpha is None else args.alpha, args.l1_ratio, args.neighbors,
                              args.tolerance, args.max_iterations)
    seconds = time.perf_counter() - started

    def scores(users):
        s = train[users] @ w
        return s.toarray() if sp.issparse(s) else s

    result = {"model": args.model, "ndcg@10": ndcg_at_10(scores, train, test), "fit_seconds": seconds}
    if args.model == "slim":
        result["columns_not_converged"] = int(unconverged)
    print(json.dumps(result))


if __name__ == "__main__":
    main()

"""Plain PyTorch logistic regression, FM, DeepFM and Wide & Deep on the examples RecKit's feature
models see (`reckit-bench feature-examples` writes them: per example and field a bag of feature
indices and weights, the label rating >= 4): the reference RecKit's `fm`, `deepfm` and `widedeep`
are measured against, for accuracy (ROC AUC of the test examples) and speed (seconds per epoch).

The networks are RecKit's: a weighted EmbeddingBag per example for the linear part (zeros at first),
FM's pairwise term as 1/2 sum_f [(sum_i v_if x_i)^2 - sum_i (v_if x_i)^2] (v ~ N(0, 0.01)), DeepFM's
MLP over the fields' pooled embeddings (shared with the FM part), Wide & Deep's linear model over every
field (crosses included) plus an MLP over the other fields' own embeddings; hidden ReLU layers 200-200
(He-normal weights, zero biases), BCE with logits, batches of 256 shuffled each epoch. Embedding tables
are sparse and trained lazily (SparseAdam; Adagrad for the wide part of Wide & Deep) as RecKit's are,
dense layers by Adam 1e-3.

    python benchmarks/peers/feature_models_torch.py --examples ex.safetensors --model deepfm --epochs 5
"""

import argparse
import json
import time

import numpy as np
import torch
from safetensors.numpy import load_file
from safetensors import safe_open


def read(path):
    tensors = load_file(path)
    with safe_open(path, "np") as handle:
        metadata = handle.metadata()
    parts = {}
    for part in ("train", "test"):
        parts[part] = {key: tensors[f"{part}.{key}"] for key in ("offsets", "indices", "weights", "labels")}
    return parts, metadata


class Examples:
    """Example-major bags: offsets[e * F + f] .. offsets[e * F + f + 1] is example e's field f."""

    def __init__(self, part, fields):
        self.offsets = torch.from_numpy(part["offsets"].astype(np.int64))
        self.indices = torch.from_numpy(part["indices"].astype(np.int64))
        self.weights = torch.from_numpy(part["weights"].astype(np.float32))
        self.labels = torch.from_numpy(part["labels"].astype(np.float32))
        self.fields = fields
        self.count = len(self.labels)

    def batch(self, rows):
        """The bags of `rows` (example indices) as flat indices, weights and per-field offsets."""
        starts = self.offsets[rows[:, None] * self.fields + torch.arange(self.fields)[None, :]].reshape(-1)
        ends = self.offsets[rows[:, None] * self.fields + torch.arange(self.fields)[None, :] + 1].reshape(-1)
        lengths = ends - starts
        total = int(lengths.sum())
        bag_of = torch.repeat_interleave(torch.arange(len(starts)), lengths)
        first = torch.cumsum(lengths, 0) - lengths
        positions = starts[bag_of] + (torch.arange(total) - first[bag_of])
        return self.indices[positions], self.weights[positions], first, bag_of, self.labels[rows]


class Network(torch.nn.Module):
    def __init__(self, model, features, fields, crossed, factors, layers):
        super().__init__()
        self.model, self.fields, self.factors = model, fields, factors
        self.deep_fields = [f for f in range(fields) if model != "widedeep" or f not in crossed]
        self.bias = torch.nn.Parameter(torch.zeros(1))
        self.linear = None
        if model in ("lr", "fm", "deepfm", "widedeep", "wide"):
            self.linear = torch.nn.EmbeddingBag(features, 1, mode="sum", sparse=True)
            torch.nn.init.zeros_(self.linear.weight)
        self.embedding = None
        if model in ("fm", "deepfm", "widedeep", "deep"):
            self.embedding = torch.nn.EmbeddingBag(features, factors, mode="sum", sparse=True)
            torch.nn.init.normal_(self.embedding.weight, std=0.01)
        self.mlp = None
        if model in ("deepfm", "widedeep", "deep"):
            sizes = [len(self.deep_fields) * factors] + layers + [1]
            modules = []
            for index in range(1, len(sizes)):
                linear = torch.nn.Linear(sizes[index - 1], sizes[index])
                torch.nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
                torch.nn.init.zeros_(linear.bias)
                modules.append(linear)
                if index < len(sizes) - 1:
                    modules.append(torch.nn.ReLU())
            self.mlp = torch.nn.Sequential(*modules)

    def forward(self, indices, weights, first, bag_of, batch):
        fields = self.fields
        example_offsets = first[::fields]
        output = self.bias.expand(batch, 1)
        if self.linear is not None:
            output = output + self.linear(indices, example_offsets, per_sample_weights=weights)
        if self.model == "fm" or self.model == "deepfm":
            summed = self.embedding(indices, example_offsets, per_sample_weights=weights)
            rows = torch.nn.functional.embedding(indices, self.embedding.weight, sparse=True) * weights[:, None]
            example_of = bag_of // fields
            squares = torch.zeros(batch, self.factors).index_add_(0, example_of, rows * rows)
            output = output + 0.5 * (summed * summed - squares).sum(1, keepdim=True)
        if self.mlp is not None:
            pooled = self.embedding(indices, first, per_sample_weights=weights).view(batch, fields, self.factors)
            if len(self.deep_fields) != fields:
                pooled = pooled[:, self.deep_fields, :]
            output = output + self.mlp(pooled.reshape(batch, -1))
        return output


def auc(scores, labels):
    """ROC AUC with tied scores sharing ranks (Mann-Whitney U)."""
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    start = 0
    while start < len(scores):
        end = start
        while end + 1 < len(scores) and sorted_scores[end + 1] == sorted_scores[start]:
            end += 1
        ranks[order[start : end + 1]] = (start + end) / 2 + 1
        start = end + 1
    positives = labels == 1
    n_pos, n_neg = positives.sum(), (~positives).sum()
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", required=True)
    parser.add_argument("--model", choices=["lr", "fm", "deepfm", "widedeep", "wide", "deep"], required=True)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--factors", type=int, default=16)
    parser.add_argument("--layers", default="200,200")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--learning-rate", type=float, default=0.001)
    parser.add_argument("--wide-learning-rate", type=float, default=0.05)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args()
    torch.set_num_threads(arguments.threads)
    torch.manual_seed(arguments.seed)
    parts, metadata = read(arguments.examples)
    fields, features = int(metadata["field_count"]), int(metadata["feature_count"])
    crossed = {int(f) for f in metadata["crossed_fields"].split(",") if f}
    train, test = Examples(parts["train"], fields), Examples(parts["test"], fields)
    network = Network(arguments.model, features, fields, crossed, arguments.factors,
                      [int(w) for w in arguments.layers.split(",")])
    sparse = [network.linear.weight] if network.linear is not None else []
    if network.embedding is not None:
        sparse.append(network.embedding.weight)
    wide = arguments.model in ("widedeep", "wide")
    dense = ([] if wide else [network.bias]) + (list(network.mlp.parameters()) if network.mlp is not None else [])
    optimizers = [torch.optim.Adam(dense, lr=arguments.learning_rate)] if dense else []
    if wide:
        # The wide part (bias and linear table) by Adagrad, the deep part's table by SparseAdam.
        optimizers.append(torch.optim.Adagrad([network.bias, network.linear.weight], lr=arguments.wide_learning_rate))
        if network.embedding is not None:
            optimizers.append(torch.optim.SparseAdam([network.embedding.weight], lr=arguments.learning_rate))
    elif sparse:
        optimizers.append(torch.optim.SparseAdam(sparse, lr=arguments.learning_rate))
    loss_function = torch.nn.BCEWithLogitsLoss()
    generator = torch.Generator().manual_seed(arguments.seed)
    epoch_seconds = []
    for _ in range(arguments.epochs):
        start = time.perf_counter()
        order = torch.randperm(train.count, generator=generator)
        for begin in range(0, train.count, arguments.batch_size):
            rows = order[begin : begin + arguments.batch_size]
            indices, weights, first, bag_of, labels = train.batch(rows)
            for optimizer in optimizers:
                optimizer.zero_grad()
            loss = loss_function(network(indices, weights, first, bag_of, len(rows)).squeeze(1), labels)
            loss.backward()
            for optimizer in optimizers:
                optimizer.step()
        epoch_seconds.append(time.perf_counter() - start)
    with torch.no_grad():
        scores = []
        for begin in range(0, test.count, 4096):
            rows = torch.arange(begin, min(test.count, begin + 4096))
            indices, weights, first, bag_of, _ = test.batch(rows)
            scores.append(network(indices, weights, first, bag_of, len(rows)).squeeze(1))
        scores = torch.cat(scores).numpy()
    print(json.dumps({"model": arguments.model, "epochs": arguments.epochs, "threads": arguments.threads,
                      "roc_auc": round(auc(scores, test.labels.numpy()), 4),
                      "seconds_per_epoch": round(float(np.median(epoch_seconds)), 4)}))


if __name__ == "__main__":
    main()

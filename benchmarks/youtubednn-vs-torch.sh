#!/usr/bin/env bash
# youtubednn's epoch (sampled softmax, 1,000 negatives by count^0.75, log-Q correction, the default
# network: 64-wide embeddings, one ReLU layer of 64, the last 50 items, batches of 256, Adam) on
# leave-last-out's training part: RecKit against a plain PyTorch implementation of the same model and
# sampler (benchmarks/peers/youtubednn_torch.py), same machine, same threads, one run. RecKit's epoch is
# (fit(LONG epochs) − fit(SHORT epochs)) / (LONG − SHORT), so loading and set-up do not count; PyTorch's
# the mean of TORCH timed epochs after a warm-up epoch.
#   benchmarks/youtubednn-vs-torch.sh [THREADS] [DATA_FOLDER]   (default 2, ml-latest-small; needs torch:
#   RECKIT_PYTHON=python-with-torch). On the ml-20m-like preset (make bench-parse writes it) an epoch takes
#   minutes: SHORT=1 LONG=2 TORCH=1 benchmarks/youtubednn-vs-torch.sh 2 .build/bench-data/ml-20m-like
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${1:-2}"
data="${2:-../shared/data/ml-latest-small-2016}"
short="${SHORT:-2}"
long="${LONG:-6}"
python="${RECKIT_PYTHON:-python3}"
fit() {
    RECKIT_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads" .build/release/reckit evaluate \
        --data "$data" --split leave-last-out --model youtubednn --set validation=0 --set "epochs=$1" \
        --set threads="$threads" --json --quiet |
        "$python" -c 'import json,sys; print(json.load(sys.stdin)["fit_seconds"])'
}
short_seconds="$(fit "$short")"
long_seconds="$(fit "$long")"
torch_line="$("$python" benchmarks/peers/youtubednn_torch.py --ratings "$data/ratings.csv" \
    --time-epochs "${TORCH:-3}" --threads "$threads")"
"$python" benchmarks/epoch-ratio.py youtubednn "$short_seconds" "$short" "$long_seconds" "$long" "$torch_line" \
    "$threads"

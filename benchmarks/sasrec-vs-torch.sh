#!/usr/bin/env bash
# SASRec's epoch on ml-latest-small (per-user leave-last-out's training part; the paper's MovieLens
# settings, which the peer implements: 50 factors, 2 blocks, 1 head, the last 200 items, dropout 0.2,
# BCE with one sampled negative, batches of 128 users, Adam): RecKit against a plain PyTorch implementation
# of the same network (benchmarks/peers/sasrec_torch.py), same machine, same threads, one run. RecKit's epoch
# is (fit(6 epochs) − fit(2 epochs)) / 4, so loading and set-up do not count; PyTorch's is the mean of 3 timed
# epochs after a warm-up epoch.
#   benchmarks/sasrec-vs-torch.sh [THREADS]      (default 2; needs torch: RECKIT_PYTHON=python-with-torch)
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${1:-2}"
python="${RECKIT_PYTHON:-python3}"
data="../shared/data/ml-latest-small-2016"
fit() {
    RECKIT_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads" .build/release/reckit evaluate \
        --data "$data" --split leave-last-out --model sasrec --set loss=bce --set max_length=200 \
        --set validation=0 --set "epochs=$1" --set threads="$threads" --json --quiet |
        "$python" -c 'import json,sys; print(json.load(sys.stdin)["fit_seconds"])'
}
short="$(fit 2)"
long="$(fit 6)"
torch_line="$("$python" benchmarks/peers/sasrec_torch.py --ratings "$data/ratings.csv" --time-epochs 3 \
    --threads "$threads")"
"$python" benchmarks/epoch-ratio.py sasrec "$short" 2 "$long" 6 "$torch_line" "$threads"

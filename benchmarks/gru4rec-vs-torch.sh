#!/usr/bin/env bash
# GRU4Rec's epoch on the yoochoose 100k sample (RecKit's defaults: one-hot input, 100 units, full softmax
# cross-entropy, session-parallel batches of 32, Adam): RecKit against a plain PyTorch implementation of the
# same network (benchmarks/peers/gru4rec_torch.py), same machine, same threads, one run.
# RecKit's epoch is (fit(6 epochs) − fit(2 epochs)) / 4, so loading and set-up do not count; PyTorch's is the
# mean of 3 timed epochs after a warm-up epoch.
#   benchmarks/gru4rec-vs-torch.sh [THREADS]      (default 2; needs torch: RECKIT_PYTHON=python-with-torch)
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${1:-2}"
python="${RECKIT_PYTHON:-python3}"
data="../shared/data/yoochoose-rsc15-100k-sessionrec"
fit() {
    RECKIT_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads" .build/release/reckit evaluate \
        --train "$data/yoochoose-clicks-100k_train_full.txt" --test "$data/yoochoose-clicks-100k_test.txt" \
        --model gru4rec --set validation=0 --set "epochs=$1" --set threads="$threads" --json --quiet |
        "$python" -c 'import json,sys; print(json.load(sys.stdin)["fit_seconds"])'
}
short="$(fit 2)"
long="$(fit 6)"
torch_line="$("$python" benchmarks/peers/gru4rec_torch.py --data "$data" --time-epochs 3 --threads "$threads")"
"$python" benchmarks/epoch-ratio.py gru4rec "$short" 2 "$long" 6 "$torch_line" "$threads"

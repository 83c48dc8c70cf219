#!/usr/bin/env bash
# Mult-VAE's and Mult-DAE's epoch on ml-latest-small (the peers' all-ratings holdout, batches of 500 users):
# RecKit against a plain PyTorch implementation of the same network, same machine, same threads, one run.
# RecKit's epoch is (fit(30 epochs) − fit(10 epochs)) / 20, so loading and set-up do not count;
# PyTorch's is the median of 10 timed epochs.
#   benchmarks/multvae-vs-torch.sh [THREADS]      (default 2; needs torch: RECKIT_PYTHON=python-with-torch)
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${1:-2}"
python="${RECKIT_PYTHON:-python3}"
split="../shared/peers/splits/ml-latest-small-2016/topn_user_holdout20_all_ratings_seed42"
fit() {
    RECKIT_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads" .build/release/reckit evaluate --split-dir "$split" \
        --model "$1" --metrics ndcg@10 --set validation=0 --set "epochs=$2" --set threads="$threads" --json --quiet |
        "$python" -c 'import json,sys; print(json.load(sys.stdin)["fit_seconds"])'
}
for model in vae dae; do
    short="$(fit "mult$model" 10)"
    long="$(fit "mult$model" 30)"
    torch_line="$("$python" benchmarks/peers/multvae_torch.py --split-dir "$split" --model "$model" \
        --time-epochs 10 --threads "$threads")"
    "$python" benchmarks/epoch-ratio.py "mult$model" "$short" 10 "$long" 30 "$torch_line" "$threads"
done

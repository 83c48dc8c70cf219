#!/usr/bin/env bash
# I-AutoRec's full-batch Rprop step on MovieLens 100K u1.base: RecKit (sparse, observed entries only)
# against a plain PyTorch implementation of the same network (dense), same machine, same threads, one run.
# RecKit's step is (fit(200 steps) − fit(50 steps)) / 150, so loading and set-up do not count;
# PyTorch's is the median of 100 timed steps.
#   benchmarks/autorec-vs-torch.sh [THREADS]      (default 2; needs torch: RECKIT_PYTHON=python-with-torch)
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${1:-2}"
python="${RECKIT_PYTHON:-python3}"
data="../shared/data/ml-100k"
fit() {
    RECKIT_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads" .build/release/reckit evaluate --data "$data" \
        --split u1 --model autorec --metrics rmse --set validation=0 --set "epochs=$1" --json --quiet |
        "$python" -c 'import json,sys; print(json.load(sys.stdin)["fit_seconds"])'
}
short="$(fit 50)"
long="$(fit 200)"
torch_line="$("$python" benchmarks/peers/autorec_torch.py --train "$data/u1.base" --test "$data/u1.test" \
    --lambdas 200 --time-steps 100 --threads "$threads")"
"$python" - "$short" "$long" "$torch_line" "$threads" <<'PY'
import json, sys
short, long, torch, threads = float(sys.argv[1]), float(sys.argv[2]), json.loads(sys.argv[3]), int(sys.argv[4])
step = (long - short) / 150
print(json.dumps({"benchmark": "autorec-step", "threads": threads, "reckit_seconds_per_step": round(step, 4),
                  "pytorch_seconds_per_step": round(torch["seconds_per_step"], 4),
                  "ratio": round(step / torch["seconds_per_step"], 3)}))
PY

#!/usr/bin/env bash
# fm (and factors=0: logistic regression), deepfm and widedeep on ml-100k's explicit 90/10 split with its
# demographics and genres (label rating >= 4): RecKit against plain PyTorch networks trained on exactly the
# examples RecKit sees (`reckit-bench feature-examples`), same settings, same threads, one run each.
# RecKit's epoch is (fit(6 epochs) - fit(2 epochs)) / 4, so loading and set-up do not count; PyTorch's is
# the median of its timed epochs. Both print the test ROC AUC after `EPOCHS` epochs (default 3).
#   benchmarks/features-vs-torch.sh [THREADS] [EPOCHS]   (needs torch and safetensors: RECKIT_PYTHON=...)
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${1:-2}"
epochs="${2:-3}"
python="${RECKIT_PYTHON:-python3}"
split="../shared/peers/splits/ml-100k/explicit_random_90_10_seed42"
data="../shared/data/ml-100k"
examples="$(mktemp -d)/examples.safetensors"
trap 'rm -rf "$(dirname "$examples")"' EXIT
.build/release/reckit-bench feature-examples --split-dir "$split" --data "$data" --out "$examples" >&2
run() { # model, epochs, settings... → the JSON object of `reckit evaluate`
    local model="$1" count="$2"
    shift 2
    local settings=()
    for setting in "$@"; do settings+=(--set "$setting"); done
    OPENBLAS_NUM_THREADS="$threads" .build/release/reckit evaluate --split-dir "$split" --data "$data" \
        --model "$model" --metrics roc_auc --set "epochs=$count" --set threads="$threads" "${settings[@]}" \
        --json --quiet
}
field() { "$python" -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
compare() { # label, torch model, reckit model, settings...
    local label="$1" peer="$2" model="$3"
    shift 3
    local short long auc torch_line
    short="$(run "$model" 2 "$@" | field fit_seconds)"
    long="$(run "$model" 6 "$@" | field fit_seconds)"
    auc="$(run "$model" "$epochs" "$@" | field roc_auc)"
    torch_line="$("$python" benchmarks/peers/feature_models_torch.py --examples "$examples" --model "$peer" \
        --epochs "$epochs" --threads "$threads")"
    "$python" - "$label" "$short" "$long" "$auc" "$torch_line" "$threads" <<'PY'
import json, sys
label, short, long, auc, torch, threads = sys.argv[1:7]
epoch = (float(long) - float(short)) / 4
peer = json.loads(torch)
print(json.dumps({"benchmark": label, "threads": int(threads), "reckit_roc_auc": round(float(auc), 4),
                  "pytorch_roc_auc": peer["roc_auc"], "reckit_seconds_per_epoch": round(epoch, 4),
                  "pytorch_seconds_per_epoch": peer["seconds_per_epoch"],
                  "ratio": round(epoch / peer["seconds_per_epoch"], 3)}))
PY
}
compare lr lr fm factors=0
compare fm fm fm
compare deepfm deepfm deepfm
compare widedeep widedeep widedeep wide_optimizer=adagrad
compare wide wide widedeep part=wide wide_optimizer=adagrad
compare deep deep widedeep part=deep

#!/usr/bin/env bash
# NeuMF: RecKit's `ncf` against the same network in plain PyTorch (benchmarks/peers/ncf_torch.py) on the
# peers' NCF split of ml-100k (each user's last item against 99 sampled negatives), same settings (GMF 16,
# MLP 64-32-16, 4 negatives per positive, Adam 0.001, batches of 256), 2 threads each, one run each.
# RecKit's epoch is (fit(6 epochs) - fit(2 epochs)) / 4, so loading and set-up do not count; PyTorch's is
# the median of its epochs. Both print HR@10 and NDCG@10 after EPOCHS epochs (default 20, ncf's default).
#   benchmarks/ncf-vs-torch.sh [THREADS] [EPOCHS]   (needs torch: RECKIT_PYTHON=...)
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${1:-2}"
epochs="${2:-20}"
python="${RECKIT_PYTHON:-python3}"
split="../shared/peers/splits/ml-100k/ncf_leave_one_out_99neg_seed42"
run() { # epochs → the JSON object of `reckit evaluate`
    OPENBLAS_NUM_THREADS="$threads" .build/release/reckit evaluate --split-dir "$split" --model ncf \
        --metrics hr@10,ndcg@10 --set "epochs=$1" --set threads="$threads" --json --quiet
}
short="$(run 2)"
long="$(run 6)"
full="$(run "$epochs")"
torch_line="$("$python" benchmarks/peers/ncf_torch.py "$split" --epochs "$epochs" --threads "$threads")"
"$python" - "$short" "$long" "$full" "$torch_line" <<'PY'
import json, sys
short, long, full, torch = (json.loads(text) for text in sys.argv[1:5])
epoch = (long["fit_seconds"] - short["fit_seconds"]) / 4
print("| model | HR@10 | NDCG@10 | s/epoch |")
print("|---|---:|---:|---:|")
print(f"| RecKit ncf | {full['hr@10']:.4f} | {full['ndcg@10']:.4f} | {epoch:.2f} |")
print(f"| PyTorch NeuMF | {torch['hr@10']:.4f} | {torch['ndcg@10']:.4f} | {torch['seconds_per_epoch']:.2f} |")
print(f"epoch time ratio RecKit / PyTorch: {epoch / torch['seconds_per_epoch']:.2f}")
PY

#!/usr/bin/env bash
# Does validation pick well? `reckit tune` on the peers' ml-100k all-ratings holdout (iALS, its default space,
# 50 trials, settings chosen on a holdout of the training part), against an exhaustive grid over the same space
# evaluated on the test split itself (the number a test-set search would report): the tuned settings' test
# NDCG@10 should be within 0.01 of the grid's best.
#   benchmarks/tune-vs-grid.sh [MODEL] [BUDGET]     (default ials 50; about 10 minutes on two cores)
set -euo pipefail
cd "$(dirname "$0")/.."
model="${1:-ials}"
budget="${2:-50}"
split="../shared/peers/splits/ml-100k/topn_user_holdout20_all_ratings_seed42"
out="${TMPDIR:-/tmp}/reckit-tune-vs-grid-$model"
ndcg() { python3 -c 'import json,sys; print(json.load(sys.stdin)["ndcg@10"])'; }
tuned="$(.build/release/reckit tune --split-dir "$split" --model "$model" --budget "$budget" --out "$out" \
    --json --quiet | ndcg)"
case "$model" in
ials)
    grid=()
    for f in 16 32 64 128 256; do for r in 0.01 0.1 1 10 100 1000; do for a in 0.1 1 10 100; do
        grid+=("--set factors=$f --set regularization=$r --set alpha=$a")
    done; done; done ;;
ease) grid=(); for r in 1 3 10 30 100 300 1000 3000 10000; do grid+=("--set regularization=$r"); done ;;
*) echo "no grid for $model" >&2; exit 2 ;;
esac
best=0
best_settings=""
for settings in "${grid[@]}"; do
    # shellcheck disable=SC2086
    value="$(.build/release/reckit evaluate --split-dir "$split" --model "$model" $settings --metrics ndcg@10 \
        --json --quiet | ndcg)"
    if python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) > float(sys.argv[2]) else 1)" "$value" "$best"; then
        best="$value"
        best_settings="$settings"
    fi
done
python3 -c "import sys; t, g = float(sys.argv[1]), float(sys.argv[2]); \
print(f'tuned on validation ({sys.argv[4]} trials): test ndcg@10 {t:.4f}; \
best of the {sys.argv[5]}-point grid on test: \
{g:.4f} ({sys.argv[3]}); gap {g - t:.4f}' + ('' if g - t <= 0.01 else '  > 0.01'))" \
    "$tuned" "$best" "$best_settings" "$budget" "${#grid[@]}"

#!/usr/bin/env bash
# RP3beta, EDLAE and SLIM against plain numpy/scipy/scikit-learn implementations of the same definitions
# (benchmarks/peers/linear_models.py), one run on this machine:
#  1. NDCG@10 on the peers' ml-100k all-ratings holdout at fixed settings (the defaults; SLIM converged:
#     tolerance 1e-6, at most 1000 sweeps, on both sides), to 4 decimals;
#  2. SLIM's fit on ml-latest-small at its defaults (alpha 0.01, l1_ratio 0.1, tolerance 1e-4, 100 sweeps)
#     against scikit-learn's ElasticNet fitted item by item (Dacrema et al.'s way), and the ratio.
#   benchmarks/linear-vs-numpy.sh [THREADS]   (default 2; needs numpy, scipy, scikit-learn: RECKIT_PYTHON=...)
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${1:-2}"
python="${RECKIT_PYTHON:-python3}"
splits="../shared/peers/splits"
ml100k="$splits/ml-100k/topn_user_holdout20_all_ratings_seed42"
small="$splits/ml-latest-small-2016/topn_user_holdout20_all_ratings_seed42"
reckit() { # model split settings... -> "ndcg fit_seconds"
    local model="$1" split="$2"
    shift 2
    RECKIT_THREADS="$threads" .build/release/reckit evaluate --split-dir "$split" --model "$model" "$@" \
        --set threads="$threads" --metrics ndcg@10 --json --quiet |
        "$python" -c 'import json,sys; r=json.load(sys.stdin); print(r["metrics"]["ndcg@10"], r["fit_seconds"])'
}
reference() { # model split options... -> "ndcg fit_seconds"
    "$python" benchmarks/peers/linear_models.py --split-dir "$@" |
        "$python" -c 'import json,sys; r=json.load(sys.stdin); print(r["ndcg@10"], r["fit_seconds"])'
}
printf '%-8s %-10s %-10s %s\n' model reckit numpy '|difference|'
for model in rp3beta edlae slim; do
    extra=()
    reference_extra=()
    if [ "$model" = slim ]; then
        extra=(--set tolerance=0.000001 --set max_iterations=1000)
        reference_extra=(--tolerance 1e-6 --max-iterations 1000)
    fi
    read -r ours _ < <(reckit "$model" "$ml100k" "${extra[@]}")
    read -r theirs _ < <(reference "$ml100k" --model "$model" "${reference_extra[@]}")
    "$python" -c "import sys; a, b = float(sys.argv[2]), float(sys.argv[3]); \
print(f'{sys.argv[1]:8s} {a:.6f}   {b:.6f}   {abs(a - b):.6f}' + ('' if round(a, 4) == round(b, 4) else '  DIFFERS'))" \
        "$model" "$ours" "$theirs"
done
read -r ours ours_seconds < <(reckit slim "$small")
read -r theirs theirs_seconds < <(reference "$small" --model slim)
"$python" -c "import sys; a, s, b, t = map(float, sys.argv[1:5]); \
print(f'slim on ml-latest-small: reckit {s:.1f} s ({sys.argv[5]} threads, ndcg@10 {a:.4f}), scikit-learn {t:.1f} s \
(ndcg@10 {b:.4f}): {s / t:.2f}x')" "$ours" "$ours_seconds" "$theirs" "$theirs_seconds" "$threads"

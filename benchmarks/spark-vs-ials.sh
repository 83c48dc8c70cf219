#!/usr/bin/env bash
# Spark MLlib ALS in local mode against RecKit's ials on the same data and machine, in one run:
# seconds per iteration. Spark's is (fit(N2) − fit(N1)) / (N2 − N1), so its fixed start-up and data
# shuffling (reported too) do not count; RecKit's is reckit-bench fit's median per iteration.
#   benchmarks/spark-vs-ials.sh [PRESET] [MASTER]      (defaults: ml-20m-like, local[2]; needs pyspark, Java 17)
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-ml-20m-like}"
master="${2:-local[2]}"
python="${RECKIT_PYTHON:-python3}"
data=".build/bench-data/$preset"
export_dir=".build/bench-data/$preset-export"
settings=(--factors 64 --regularization 0.05 --alpha 40)
test -f "$data/ratings.csv" || .build/release/reckit data synth --preset "$preset" --seed 42 --out "$data" --quiet
test -f "$export_dir/export.json" || .build/release/reckit data export "$data" --out "$export_dir" --quiet
fits=()
for iterations in 2 5; do
    out="$(mktemp -d)"
    line="$("$python" spark/train_als.py --master "$master" --driver-memory 14g --input "$export_dir" \
        --output "$out/factors" "${settings[@]}" --iterations "$iterations" 2>/dev/null | tail -1)"
    rm -rf "$out"
    fits+=("$("$python" -c 'import json,sys; print(json.loads(sys.argv[1])["fit_seconds"])' "$line")")
done
"$python" - "${fits[@]}" "$master" <<'PY'
import json, sys
two, five, master = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
per = (five - two) / 3
print(json.dumps({"benchmark": "spark-als", "master": master, "fit_seconds_2_iterations": two,
                  "fit_seconds_5_iterations": five, "seconds_per_iteration": per, "fixed_seconds": two - 2 * per}))
PY
for solver in cg cholesky; do
    .build/release/reckit-bench fit --model ials --preset "$preset" --iterations 3 \
        --settings "regularization=0.05,regularization_scaling=count,solver=$solver" 2>/dev/null | tail -1
done

#!/usr/bin/env bash
# Cold items on ml-latest-small (cold-items:0.1, seed 42): RecKit's suite (random, popularity, mfside with
# genres, decade and tags; settings chosen on validation) and LightFM (WARP, the same item features, no
# identity feature for the held-out movies; epochs chosen on validation) on exactly the same split, written
# by `reckit data split`. Each test user's ranking is among the held-out movies; NDCG@10 over 3 seeds.
# LightFM runs on one thread (its Hogwild threads make runs, and so its choice on validation, differ).
#   benchmarks/cold-items-vs-lightfm.sh [THREADS]   (needs lightfm: RECKIT_PYTHON=...; ../shared/peers/install.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${1:-2}"
python="${RECKIT_PYTHON:-python3}"
data="../shared/data/ml-latest-small-2016"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
.build/release/reckit data split "$data" --split cold-items:0.1 --seed 42 --out "$work/split" --quiet
echo "LightFM (benchmarks/peers/cold_items_lightfm.py):"
"$python" benchmarks/peers/cold_items_lightfm.py "$work/split" "$data" --threads 1 --seeds 3
echo "RecKit (benchmarks/cold-items-ml-latest-small.yaml):"
.build/release/reckit benchmark benchmarks/cold-items-ml-latest-small.yaml --threads "$threads" --tune-dir "$work/tune"

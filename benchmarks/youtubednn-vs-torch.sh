#!/usr/bin/env bash
# youtubednn's epoch (sampled softmax, 1,000 negatives by count^0.75, log-Q correction, the default
# network: 64-wide embeddings, one ReLU layer of 64, the last 50 items, batches of 256, Adam) on
# leave-last-out's training part: RecKit against a plain PyTorch implementation of the same model and
# sampler (benchmarks/peers/youtubednn_torch.py), same machine, same threads, one run.
#   benchmarks/youtubednn-vs-torch.sh [THREADS] [DATA_FOLDER | PRESET]   (default 2, ml-latest-small;
#   needs torch: RECKIT_PYTHON=python-with-torch)
# A data folder: RecKit's epoch is (fit(LONG epochs) − fit(SHORT epochs)) / (LONG − SHORT), so loading
# and set-up do not count; PyTorch's the mean of TORCH timed epochs after a warm-up epoch.
# A synthetic preset (ml-20m-like, where an epoch takes minutes): RecKit's epochs are timed one by one
# (`reckit-bench fit`, EPOCHS of them, default 2; the first, which holds the set-up, is not counted) and
# PyTorch's TORCH epochs (default 1) after WARM_UP batches (default 300), on the preset's ratings.csv
# (written by `reckit data synth` under .build/bench-data when missing). Each side's epochs are logged
# to stderr as they finish.
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${1:-2}"
data="${2:-../shared/data/ml-latest-small-2016}"
python="${RECKIT_PYTHON:-python3}"
if [ ! -d "$data" ]; then
    preset="$data"
    data=".build/bench-data/$preset"
    [ -f "$data/ratings.csv" ] || .build/release/reckit data synth --preset "$preset" --seed 42 --out "$data"
    reckit="$(RECKIT_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads" .build/release/reckit-bench fit \
        --model youtubednn --preset "$preset" --split leave-last-out --iterations "${EPOCHS:-2}" --threads "$threads")"
    echo "reckit: $reckit" >&2
    torch_line="$("$python" benchmarks/peers/youtubednn_torch.py --ratings "$data/ratings.csv" \
        --time-epochs "${TORCH:-1}" --warm-up-batches "${WARM_UP:-300}" --threads "$threads")"
    echo "pytorch: $torch_line" >&2
    "$python" - "$reckit" "$torch_line" "$threads" <<'PY'
import json, sys
reckit, torch, threads = json.loads(sys.argv[1]), json.loads(sys.argv[2]), int(sys.argv[3])
timed = reckit["seconds_per_iteration"][1:]
epoch = sum(timed) / len(timed)
peer = torch["seconds_per_epoch"]
print(json.dumps({"benchmark": "youtubednn-epoch", "preset": reckit["preset"], "examples": torch["examples"],
                  "threads": threads, "reckit_seconds_per_epoch": round(epoch, 2),
                  "pytorch_seconds_per_epoch": round(peer, 2), "ratio": round(epoch / peer, 3)}))
PY
    exit 0
fi
short="${SHORT:-2}"
long="${LONG:-6}"
fit() {
    RECKIT_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads" .build/release/reckit evaluate \
        --data "$data" --split leave-last-out --model youtubednn --set validation=0 --set "epochs=$1" \
        --set threads="$threads" --json --quiet |
        "$python" -c 'import json,sys; print(json.load(sys.stdin)["fit_seconds"])'
}
short_seconds="$(fit "$short")"
echo "reckit: $short epochs $short_seconds s" >&2
long_seconds="$(fit "$long")"
echo "reckit: $long epochs $long_seconds s" >&2
torch_line="$("$python" benchmarks/peers/youtubednn_torch.py --ratings "$data/ratings.csv" \
    --time-epochs "${TORCH:-3}" --threads "$threads")"
"$python" benchmarks/epoch-ratio.py youtubednn "$short_seconds" "$short" "$long_seconds" "$long" "$torch_line" \
    "$threads"

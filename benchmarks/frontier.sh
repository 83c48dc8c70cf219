#!/usr/bin/env bash
# Re-tunes every family on every data set of benchmarks/frontier-tune.yaml, evaluates the tuned settings over 5
# seeds, writes the report (frontier.html, frontier.md) and benchmarks/frontier.yaml: the same suite with the
# chosen settings fixed, so `reckit benchmark benchmarks/frontier.yaml` re-evaluates without re-tuning.
#   benchmarks/frontier.sh      (RECKIT_PYTHON for the small YAML writer; trials resume from tune-runs/frontier)
set -euo pipefail
cd "$(dirname "$0")/.."
python="${RECKIT_PYTHON:-python3}"
.build/release/reckit benchmark benchmarks/frontier-tune.yaml --tune-dir tune-runs/frontier \
    --report frontier.html --markdown frontier.md --json > frontier.json
"$python" - frontier.json benchmarks/frontier.yaml <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))
suite = open("benchmarks/frontier-tune.yaml").read()
head = suite[: suite.index("models:")]
head = head.replace(
    "The frontier, re-tuned", "The frontier at the settings tune chose (written by benchmarks/frontier.sh)")
lines = [head.rstrip("\n"), "models:", "  - popularity"]
for dataset in run["datasets"]:
    for result in dataset["results"]:
        if result["model"] == "popularity":
            continue
        settings = result["context"].get("settings") or ""
        pairs = [pair.split("=", 1) for pair in settings.split(",") if pair]
        fixed = ", ".join(f"{key}: {value}" for key, value in pairs if key != "seed")
        note = result["context"].get("tuned", "")
        lines.append(f"  # {dataset['name']} {result['model']}: {note}")
        lines.append(
            f"  - {{model: {result['context']['model_kind']}, name: {result['model']}, datasets: [{dataset['name']}], "
            f"settings: {{{fixed}}}}}")
open(sys.argv[2], "w").write("\n".join(lines) + "\n")
PY
echo "wrote benchmarks/frontier.yaml, frontier.html, frontier.md"

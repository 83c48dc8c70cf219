#!/usr/bin/env bash
# schemathesis (PyPI) against the server's OpenAPI document (issue 15's acceptance 4): every operation
# fuzzed with generated requests, every check on (no 5xx, responses match the schema, invalid requests
# refused, valid ones accepted, 405 for undeclared methods, keys enforced). Strings are generated as
# UTF-8 (JSON text with lone surrogates is not valid Unicode; the server refuses it with a 400).
#   benchmarks/serve-schemathesis.sh [MAX_EXAMPLES]   (RECKIT_PYTHON: a python with schemathesis)
set -euo pipefail
cd "$(dirname "$0")/.."
examples="${1:-200}"
python="${RECKIT_PYTHON:-python3}"
"$python" -c "import schemathesis" 2>/dev/null || "$python" -m pip install --quiet schemathesis
work=.build/bench-data/schemathesis
rm -rf "$work" && mkdir -p "$work"
.build/release/reckit data synth --preset small --seed 1 --out "$work/data" --quiet
.build/release/reckit train --data "$work/data" --model ials --evaluate holdout:0.2 --out "$work/models/v1" --quiet
key="admin-$(date +%s%N)"
printf 'admin %s\n' "$key" > "$work/keys.txt"
port=18_091
port=${port//_/}
.build/release/reckit serve --models-dir "$work/models" --port "$port" --events "sqlite:$work/events.sqlite" \
    --api-key-file "$work/keys.txt" --trending 1h 2> "$work/serve.log" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
"$python" -m schemathesis.cli run Sources/RecKitServe/Resources/openapi.yaml --url "http://127.0.0.1:$port" \
    --checks all --max-examples "$examples" --generation-codec utf-8 -H "X-API-Key: $key"
if grep -q "crashed" "$work/serve.log"; then echo "the server crashed: $work/serve.log" >&2; exit 1; fi
kill $server
# The item routes again on a model that takes new items (content): generated titles, genres and tags
# reach its tokenizer, and accepted additions are saved as new versions and served.
.build/release/reckit train --data "$work/data" --model content --set epochs=5 --out "$work/content/v1" --quiet
.build/release/reckit serve --models-dir "$work/content" --port "$port" --events "sqlite:$work/content.sqlite" \
    --api-key-file "$work/keys.txt" 2> "$work/serve-content.log" &
server=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
"$python" -m schemathesis.cli run Sources/RecKitServe/Resources/openapi.yaml --url "http://127.0.0.1:$port" \
    --checks all --max-examples "$examples" --generation-codec utf-8 -H "X-API-Key: $key" \
    --include-path-regex "^/v1/items"
echo "versions written by accepted additions: $(($(ls "$work/content" | wc -l) - 1))"
if grep -q "crashed" "$work/serve-content.log"; then echo "the server crashed: $work/serve-content.log" >&2; exit 1; fi

#!/usr/bin/env bash
# Load on `reckit serve` (issue 15's acceptance 1): a 64-factor iALS model of the ml-20m-like preset
# (138,000 users, 27,000 items), GET /v1/recommendations for random training users (seen items excluded)
# and POST /v1/recommendations with a 50-item history, each by wrk for DURATION seconds over CONNECTIONS
# connections, server and wrk sharing this machine's cores, loopback only.
#   benchmarks/serve-load.sh [DURATION] [CONNECTIONS: 64]  (needs wrk: apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-20}"
connections="${2:-64}"
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
work=.build/bench-data/serve
mkdir -p "$work"
data=.build/bench-data/ml-20m-like
[[ -f "$data/ratings.csv" ]] || .build/release/reckit data synth --preset ml-20m-like --seed 42 --out "$data" --quiet
[[ -f "$work/models/ials64/manifest.json" ]] ||
    .build/release/reckit train --data "$data" --model ials --set factors=64 --set iterations=10 \
        --out "$work/models/ials64"
rm -f "$work"/events.sqlite*
port=18_080
port=${port//_/}
.build/release/reckit serve --models-dir "$work/models" --port "$port" --events "sqlite:$work/events.sqlite" \
    2> "$work/serve.log" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
count() {
    curl -sf "http://127.0.0.1:$port/v1/models" |
        python3 -c "import json,sys; print(json.load(sys.stdin)['active']['$1'])"
}
users=$(count users)
items=$(count items)
cat > "$work/get.lua" <<LUA
math.randomseed(7)
request = function()
  return wrk.format("GET", "/v1/recommendations?user=" .. math.random(1, $users) .. "&k=10")
end
LUA
cat > "$work/post.lua" <<LUA
math.randomseed(11)
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  local ids = {}
  for i = 1, 50 do ids[i] = '"' .. math.random(1, $items) .. '"' end
  return wrk.format(nil, "/v1/recommendations", nil, '{"k":10,"history":[' .. table.concat(ids, ",") .. ']}')
end
LUA
echo "GET /v1/recommendations, random users of $users:"
wrk -t 1 -c "$connections" -d "${duration}s" --latency -s "$work/get.lua" "http://127.0.0.1:$port" |
    grep -E "Requests/sec|99%|90%|50%|Non-2xx|Socket errors"
echo "POST /v1/recommendations, 50-item histories:"
wrk -t 1 -c "$connections" -d "${duration}s" --latency -s "$work/post.lua" "http://127.0.0.1:$port" |
    grep -E "Requests/sec|99%|90%|50%|Non-2xx|Socket errors"
# Hot reload under load (acceptance 3): GET load for 3 × DURATION seconds while 10 new versions are
# copied in (hard links) and reloaded; every response must be 2xx.
echo "GET under 10 reloads:"
wrk -t 1 -c "$connections" -d "$((3 * duration))s" --latency -s "$work/get.lua" "http://127.0.0.1:$port" \
    > "$work/reload-wrk.txt" &
load=$!
sleep 1
reloads=0
for i in $(seq -w 1 10); do
    rm -rf "$work/models/ials64-r$i"
    cp -al "$work/models/ials64" "$work/models/ials64-r$i"
    status=$(curl -s -o /dev/null -w "%{http_code}" -X POST "http://127.0.0.1:$port/v1/models/reload")
    [[ "$status" == 200 ]] && reloads=$((reloads + 1))
    sleep "$(python3 -c "print($duration * 2.5 / 10)")"
done
wait "$load"
grep -E "Requests/sec|99%|Non-2xx|Socket errors" "$work/reload-wrk.txt" || true
grep -q "Non-2xx" "$work/reload-wrk.txt" || echo "  0 non-2xx responses"
echo "  reloads answered 200: $reloads of 10; now serving $(curl -sf "http://127.0.0.1:$port/v1/models" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["active"]["version"])')"
rm -rf "$work"/models/ials64-r*

#!/usr/bin/env bash
# Matchmaking over one and over two API nodes, same run: ./cluster.sh start (PostgreSQL, Redis,
# two API nodes, two game hosts on loopback), PLAYERS accounts registered, each placed once, then
# for one node (api1 only) and for two nodes (api1 and api2):
#   - a fixed rate of RATE matchmakes/s for DURATION s (fixed_rate.py: p50/p90/p99 from the scheduled start),
#   - the most wrk gets in DURATION s with CONNECTIONS connections (split over the nodes).
# Players cycle round robin, so after the first pass each matchmake renews the player's place
# (the script's first branch); the uptime load average is printed before each figure.
#
#   bench/cluster/run-matchmake.sh
#   PLAYERS=300 RATE=100 DURATION=10 CONNECTIONS=64 bench/cluster/run-matchmake.sh
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here=$root/bench/cluster
players=${PLAYERS:-200}
rate=${RATE:-100}
seconds=${DURATION:-10}
connections=${CONNECTIONS:-64}
command -v wrk >/dev/null || { echo "wrk is not installed (Debian: apt-get install -y wrk)" >&2; exit 1; }

echo "building src/Paperclip.Server (Release) ..." >&2
dotnet build "$root/src/Paperclip.Server" -c Release --nologo -v quiet >/dev/null
work=$(mktemp -d)
chmod 755 "$work" # cluster.sh runs PostgreSQL as the postgres user when root: it must reach its directory
export PAPERCLIP_CLUSTER_DIR=$work/cluster PAPERCLIP_CLUSTER_APP=$root/src/Paperclip.Server/bin/Release/net10.0
trap '"$root/cluster.sh" stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
mapfile -t apis < <("$root/cluster.sh" start | awk '/^api /{print $2}')
(( ${#apis[@]} == 2 )) || { echo "cluster.sh start did not print two API nodes" >&2; exit 1; }
echo "API nodes: ${apis[*]}" >&2

echo "registering $players players ..." >&2
for ((i = 1; i <= players; i++)); do
  curl -fsS -o /dev/null -H "Content-Type: application/json" -d "{\"username\":\"bench$i\",\"password\":\"Bench-Player-1\"}" "${apis[0]}/auth/register"
  curl -fsS -u "bench$i:Bench-Player-1" "${apis[0]}/auth/token" | sed -E 's/.*"token":"([^"]+)".*/\1/'
  echo
done >"$work/tokens"
(( $(wc -l <"$work/tokens") == players )) || { echo "not every player got a token" >&2; exit 1; }
export TOKENS=$work/tokens
# Each player placed once (lobbies created and started on the hosts), at a gentle rate; then both
# nodes warmed up (JIT, connection pools), so neither figure pays for a cold node.
"$here/fixed_rate.py" 50 "$(( (players + 49) / 50 ))" "$TOKENS" "${apis[@]}" >/dev/null
for url in "${apis[@]}"; do wrk -t1 -c"$connections" -d5s -s "$here/matchmake.lua" "$url" >/dev/null; done

load() { cut -d' ' -f1-3 /proc/loadavg; }

max_rate() { # URL... : wrk on every URL at once, CONNECTIONS split; prints the summed req/s and each p99
  local n=$# c=$((connections / $#)) i=0 pids=()
  for url in "$@"; do
    wrk -t1 -c"$c" -d"${seconds}s" --latency -s "$here/matchmake.lua" "$url" >"$work/wrk$i" & pids+=($!); i=$((i + 1))
  done
  wait "${pids[@]}"
  local total=0 p99s=() errors=""
  for ((i = 0; i < n; i++)); do
    total=$(awk -v t="$total" '/^Requests\/sec:/ {print t + $2}' "$work/wrk$i")
    p99s+=("$(awk '$1 == "99%" {print $2}' "$work/wrk$i")")
    errors+=$(grep -E "Non-2xx|Socket errors" "$work/wrk$i" || true)
  done
  printf '  max: %.0f matchmakes/s, p99 %s (wrk -t1 -c%d per node, %ss)%s\n' "$total" "${p99s[*]}" "$c" "$seconds" "${errors:+; $errors}"
}

for nodes in 1 2; do
  urls=("${apis[@]:0:$nodes}")
  echo "== $nodes API node(s): ${urls[*]}"
  echo "  load average $(load)"
  echo "  fixed: $("$here/fixed_rate.py" "$rate" "$seconds" "$TOKENS" "${urls[@]}" | tr '\n' ' ')"
  echo "  load average $(load)"
  max_rate "${urls[@]}"
done

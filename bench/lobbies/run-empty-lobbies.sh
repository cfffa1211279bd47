#!/usr/bin/env bash
# The real server holding many empty lobbies, made as an operator (or players) would: through
# POST /lobby/create. Each lobby is a Paperclip game server on its own UDP port. Once they are
# up, measures the server process over a window: CPU (% of one core, from /proc/PID/stat),
# threads and RSS (from /proc/PID/status). Nobody plays, so the figure is what idle lobbies cost.
#
#   bench/lobbies/run-empty-lobbies.sh                 # 2000 lobbies, a 30 s window
#   LOBBIES=500 WINDOW=60 bench/lobbies/run-empty-lobbies.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOBBIES="${LOBBIES:-2000}"
WINDOW="${WINDOW:-30}"
SETTLE="${SETTLE:-10}"
PARALLEL="${PARALLEL:-8}"
# Outside Linux's ephemeral range (32768-60999), as the default 27000-27999 is; wide enough for LOBBIES.
FIRST_PORT="${FIRST_PORT:-20000}"
LAST_PORT=$((FIRST_PORT + LOBBIES + 99))

command -v curl >/dev/null || { echo "curl is not installed" >&2; exit 1; }
echo "Building src/Paperclip.Server (Release)…"
dotnet build "$ROOT/src/Paperclip.Server" -c Release -nologo -v quiet >/dev/null

WORK="$(mktemp -d)"
PORT=$((15000 + RANDOM % 5000))
BASE="http://127.0.0.1:$PORT"
SERVER_PID=""
cleanup() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

echo "Starting the server on $BASE, lobby ports $FIRST_PORT-$LAST_PORT (data in $WORK)…"
(
    cd "$WORK"
    exec env ASPNETCORE_ENVIRONMENT=Production dotnet "$ROOT/src/Paperclip.Server/bin/Release/net10.0/Paperclip.Server.dll" \
        --contentRoot "$ROOT/src/Paperclip.Server" \
        --urls "$BASE" \
        --Paperclip:Demo=true \
        --Paperclip:DataDirectory="$WORK" \
        --ConnectionStrings:Paperclip="Data Source=$WORK/paperclip.db" \
        --Paperclip:Lobbies:PortRange="$FIRST_PORT-$LAST_PORT" \
        --Paperclip:Lobbies:PruneSeconds=86400 \
        --Paperclip:LogDirectory= \
        --Serilog:MinimumLevel:Default=Warning
) >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

for _ in $(seq 1 240); do
    if curl -fsS "$BASE/health" >/dev/null 2>&1; then break; fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then cat "$WORK/server.log" >&2; exit 1; fi
    sleep 0.25
done
TOKEN="$(curl -fsS -u 'Mario:ItsAMe123' "$BASE/auth/token" | sed -E 's/.*"token":"([^"]+)".*/\1/')"
[[ -n "$TOKEN" ]] || { echo "could not get a token" >&2; exit 1; }

echo "Creating $LOBBIES lobbies ($PARALLEL at a time)…"
started=$(date +%s.%N)
seq 1 "$LOBBIES" | xargs -P "$PARALLEL" -I{} curl -fsS -o /dev/null -w '%{http_code}\n' \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"game-id":1}' "$BASE/lobby/create" >"$WORK/codes"
created=$(grep -c '^201$' "$WORK/codes" || true)
elapsed=$(echo "$(date +%s.%N) - $started" | bc)
echo "$created of $LOBBIES lobbies created (201) in ${elapsed} s"
[[ "$created" -eq "$LOBBIES" ]] || { sort "$WORK/codes" | uniq -c >&2; tail -20 "$WORK/server.log" >&2; exit 1; }

ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }
HZ=$(getconf CLK_TCK)
sleep "$SETTLE"
before=$(ticks)
sleep "$WINDOW"
after=$(ticks)
cpu=$(echo "scale=2; 100 * ($after - $before) / $HZ / $WINDOW" | bc)
threads=$(awk '/^Threads:/ {print $2}' "/proc/$SERVER_PID/status")
rss=$(awk '/^VmRSS:/ {printf "%.0f", $2 / 1024}' "/proc/$SERVER_PID/status")
cores=$(nproc)
echo
echo "server process with $created empty lobbies, ${WINDOW} s window after ${SETTLE} s: cpu ${cpu} % of one core, threads ${threads} (target <= $((4 * cores + 48))), rss ${rss} MiB"

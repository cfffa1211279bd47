#!/usr/bin/env bash
# HTTP benchmark of the backend with wrk on loopback: GET /health (bare) against
# GET /friends/ with a Bearer token (JWT validation + a SQLite query + JSON), same run.
# Starts the server in Release on a temporary SQLite database with the demo accounts on a
# free port, gets a token for Mario, runs wrk against both endpoints and prints the ratio.
#
#   bench/http/run-wrk.sh                      # defaults: 2 threads, 64 connections, 15 s each
#   DURATION=30s CONNECTIONS=128 bench/http/run-wrk.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DURATION="${DURATION:-15s}"
WARMUP="${WARMUP:-5s}"
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-64}"

command -v wrk >/dev/null || { echo "wrk is not installed (Debian: apt-get install -y wrk)" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is not installed" >&2; exit 1; }

echo "Building src/Paperclip.Server (Release)…"
dotnet build "$ROOT/src/Paperclip.Server" -c Release -nologo -v quiet >/dev/null

free_port() {
    local port
    for _ in $(seq 1 100); do
        port=$((20000 + RANDOM % 20000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    echo "no free port found" >&2
    return 1
}

WORK="$(mktemp -d)"
PORT="$(free_port)"
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

echo "Starting the server on $BASE (data in $WORK)…"
(
    cd "$WORK"
    exec env ASPNETCORE_ENVIRONMENT=Production dotnet "$ROOT/src/Paperclip.Server/bin/Release/net10.0/Paperclip.Server.dll" \
        --contentRoot "$ROOT/src/Paperclip.Server" \
        --urls "$BASE" \
        --Paperclip:Demo=true \
        --Paperclip:DataDirectory="$WORK" \
        --ConnectionStrings:Paperclip="Data Source=$WORK/paperclip.db" \
        --Paperclip:LogDirectory= \
        --Serilog:MinimumLevel:Default=Warning
) >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

for _ in $(seq 1 120); do
    if curl -fsS "$BASE/health" >/dev/null 2>&1; then break; fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then cat "$WORK/server.log" >&2; exit 1; fi
    sleep 0.25
done
curl -fsS "$BASE/health" >/dev/null

TOKEN="$(curl -fsS -u 'Mario:ItsAMe123' "$BASE/auth/token" | sed -E 's/.*"token":"([^"]+)".*/\1/')"
[[ -n "$TOKEN" ]] || { echo "could not get a token" >&2; exit 1; }
FRIENDS="$(curl -fsS -H "Authorization: Bearer $TOKEN" "$BASE/friends/")"
echo "GET /friends/ as Mario: $FRIENDS"

run() {
    local name="$1"; shift
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" "$@" >/dev/null
    local out
    out="$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@")"
    echo "---- $name ----" >&2
    echo "$out" >&2
    if grep -q "Non-2xx" <<<"$out"; then echo "$name: non-2xx responses" >&2; exit 1; fi
    awk '/^Requests\/sec:/ {print $2}' <<<"$out"
}

echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION (after a $WARMUP warm-up each)"
HEALTH_RPS="$(run "GET /health" "$BASE/health")"
FRIENDS_RPS="$(run "GET /friends/ (Bearer)" -H "Authorization: Bearer $TOKEN" "$BASE/friends/")"
# /health asks the database (a health check that opens a connection); /auth/server-key is a
# constant answer without auth or database: the floor of the HTTP stack, for reference.
STATIC_RPS="$(run "GET /auth/server-key (no auth, no database)" "$BASE/auth/server-key")"

echo
printf 'GET /health              %12.0f req/s\n' "$HEALTH_RPS"
printf 'GET /friends/ Bearer     %12.0f req/s\n' "$FRIENDS_RPS"
printf 'GET /auth/server-key     %12.0f req/s\n' "$STATIC_RPS"
awk -v f="$FRIENDS_RPS" -v s="$STATIC_RPS" 'BEGIN { printf "ratio /friends/ : /auth/server-key = %.1f%%\n", 100 * f / s }'
awk -v f="$FRIENDS_RPS" -v h="$HEALTH_RPS" 'BEGIN { r = f / h; printf "ratio /friends/ : /health = %.1f%% (target >= 30%%)\n", 100 * r; exit (r >= 0.30 ? 0 : 2) }'

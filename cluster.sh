#!/usr/bin/env bash
# ./cluster.sh start|stop — a local Paperclip cluster on loopback (docs/scaling.md): a throwaway
# PostgreSQL cluster, redis-server, two API nodes (Mode=Api) and two game hosts (Mode=GameHost),
# every process detached, its output in a log file under the state directory.
#
#   PAPERCLIP_CLUSTER_DIR   state directory (default /tmp/paperclip-cluster-$UID)
#   PAPERCLIP_CLUSTER_UDP   first UDP port of the game hosts' ranges (default 27000: host 1 gets
#                           27000-27099, host 2 27100-27199; outside the ephemeral 32768-60999)
#   PAPERCLIP_CLUSTER_APP   a directory with a built Paperclip.Server.dll to run instead of
#                           publishing one (the tests pass their own build)
set -euo pipefail
root=$(cd "$(dirname "$0")" && pwd)
state=${PAPERCLIP_CLUSTER_DIR:-/tmp/paperclip-cluster-$(id -u)}
udp=${PAPERCLIP_CLUSTER_UDP:-27000}
timeout_seconds=180

die() { echo "cluster.sh: $*" >&2; exit 1; }

pg_bin() {
  local found
  found=$(command -v initdb 2>/dev/null || compgen -G "/usr/lib/postgresql/*/bin/initdb" | sort -V | tail -1 || true)
  [[ -n $found ]] || die "PostgreSQL is not installed (apt-get install postgresql)"
  dirname "$(readlink -f "$found")"
}

# initdb refuses root: run PostgreSQL's tools as the postgres user then.
as_pg() {
  if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Runs a command detached (own session) in $state/NAME (so no .env of the caller's directory
# applies), output to $state/logs/NAME.log, pid to $state/pids/NAME.
spawn() {
  local name=$1; shift
  mkdir -p "$state/$name"
  (cd "$state/$name" && exec setsid "$@" >"$state/logs/$name.log" 2>&1 < /dev/null) &
  echo $! >"$state/pids/$name"
}

wait_http() {
  local name=$1 url=$2 deadline=$((SECONDS + timeout_seconds))
  until curl -fs -o /dev/null --max-time 2 "$url"; do
    if ! kill -0 "$(cat "$state/pids/$name")" 2>/dev/null; then
      tail -n 20 "$state/logs/$name.log" >&2
      die "$name exited (log: $state/logs/$name.log)"
    fi
    (( SECONDS < deadline )) || die "$name did not answer $url within ${timeout_seconds}s (log: $state/logs/$name.log)"
    sleep 0.5
  done
}

start() {
  [[ ! -e $state ]] || die "$state exists: a cluster is running (./cluster.sh stop first)"
  command -v redis-server >/dev/null || die "redis-server is not installed (apt-get install redis-server)"
  command -v curl >/dev/null || die "curl is not installed"
  local bin; bin=$(pg_bin)
  # A start that fails half way removes what it started.
  trap 'rc=$?; if (( rc != 0 )); then echo "cluster.sh: start failed; stopping what was started" >&2; stop; fi' EXIT
  mkdir -p "$state/logs" "$state/pids" "$state/redis"
  chmod 700 "$state"

  local app=${PAPERCLIP_CLUSTER_APP:-}
  if [[ -z $app ]]; then
    app=$state/app
    echo "building Paperclip.Server into $app ..." >&2
    dotnet publish "$root/src/Paperclip.Server" -c Release -o "$app" --nologo -v quiet >"$state/logs/build.log" 2>&1 \
      || { tail -n 30 "$state/logs/build.log" >&2; die "the build failed"; }
  fi
  [[ -f $app/Paperclip.Server.dll ]] || die "no Paperclip.Server.dll in $app"

  # Secrets shared by every node, generated for this cluster only.
  local signing_key server_key host_secret
  signing_key=$(openssl rand -base64 32)
  server_key=$(openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -outform DER | base64 -w0)
  host_secret=$(openssl rand -hex 32)

  local pg_port redis_port
  pg_port=$(free_port); redis_port=$(free_port)
  mkdir -p "$state/pg"
  [[ $(id -u) != 0 ]] || chown postgres: "$state" "$state/pg" "$state/logs"
  as_pg "$bin/initdb" -D "$state/pg/data" -U paperclip --auth=trust -E UTF8 >"$state/logs/initdb.log" 2>&1 \
    || { cat "$state/logs/initdb.log" >&2; die "initdb failed"; }
  as_pg "$bin/pg_ctl" -D "$state/pg/data" -l "$state/logs/postgres.log" -w -t 60 \
    -o "-p $pg_port -c listen_addresses=127.0.0.1 -k $state/pg" start >/dev/null \
    || die "PostgreSQL did not start (log: $state/logs/postgres.log)"
  "$bin/createdb" -h 127.0.0.1 -p "$pg_port" -U paperclip paperclip
  echo "$bin" >"$state/pg/bin"

  redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$state/redis" --appendonly yes \
    --daemonize yes --pidfile "$state/pids/redis" --logfile "$state/logs/redis.log" >/dev/null
  local deadline=$((SECONDS + 30))
  until redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null | grep -q PONG; do
    (( SECONDS < deadline )) || die "redis-server did not answer (log: $state/logs/redis.log)"
    sleep 0.2
  done

  local common=(
    env ASPNETCORE_ENVIRONMENT=Production
    Paperclip__Database__Provider=Postgres
    "ConnectionStrings__Paperclip=Host=127.0.0.1;Port=$pg_port;Database=paperclip;Username=paperclip"
    "Paperclip__Redis__Configuration=127.0.0.1:$redis_port"
    "Paperclip__Cluster__HostSecret=$host_secret"
    Paperclip__LogDirectory=
  )
  # One API node at a time: the first migrates the database (two first starts at once would
  # race on the migrations).
  local api_ports=() i port
  for i in 1 2; do
    port=$(free_port); api_ports+=("$port")
    spawn "api$i" "${common[@]}" Paperclip__Mode=Api "Paperclip__ServerKey=$server_key" "Paperclip__Auth__SigningKey=$signing_key" \
      "Paperclip__DataDirectory=$state/api$i" "ASPNETCORE_URLS=http://127.0.0.1:$port" \
      dotnet "$app/Paperclip.Server.dll"
    wait_http "api$i" "http://127.0.0.1:$port/health"
  done

  local host_ports=()
  for i in 1 2; do
    port=$(free_port); host_ports+=("$port")
    local first=$((udp + (i - 1) * 100))
    spawn "host$i" "${common[@]}" Paperclip__Mode=GameHost \
      "Paperclip__Cluster__ApiUrl=http://127.0.0.1:${api_ports[$((i - 1))]}" \
      "Paperclip__GameHost__PortRange=$first-$((first + 99))" Paperclip__GameHost__PublicHost=127.0.0.1 \
      "Paperclip__GameHost__HostId=host$i" \
      "Paperclip__DataDirectory=$state/host$i" "ASPNETCORE_URLS=http://127.0.0.1:$port" \
      dotnet "$app/Paperclip.Server.dll"
  done
  wait_http host1 "http://127.0.0.1:${host_ports[0]}/health"
  wait_http host2 "http://127.0.0.1:${host_ports[1]}/health"

  {
    echo "postgres 127.0.0.1:$pg_port"
    echo "redis 127.0.0.1:$redis_port"
    for port in "${host_ports[@]}"; do echo "host http://127.0.0.1:$port"; done
  } >"$state/parts"
  for port in "${api_ports[@]}"; do echo "api http://127.0.0.1:$port"; done | tee -a "$state/parts"
  trap - EXIT
}

stop_pid() {
  local pid=$1 deadline=$((SECONDS + 20))
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do
    if (( SECONDS >= deadline )); then kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; break; fi
    sleep 0.2
  done
}

stop() {
  [[ -d $state ]] || { echo "cluster.sh: no cluster at $state" >&2; return 0; }
  local name
  for name in host1 host2 api1 api2; do
    [[ -f $state/pids/$name ]] && stop_pid "$(cat "$state/pids/$name")"
  done
  [[ -f $state/pids/redis ]] && stop_pid "$(cat "$state/pids/redis")"
  if [[ -f $state/pg/bin && -d $state/pg/data ]]; then
    as_pg "$(cat "$state/pg/bin")/pg_ctl" -D "$state/pg/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$state"
  echo "stopped; removed $state" >&2
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac

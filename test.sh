#!/usr/bin/env bash
# Runs the whole test suite: protocol, transport (real loopback sockets) and backend
# (real SQLite files and a throwaway PostgreSQL cluster), then packs the NuGet packages and builds
# and runs a sample from them (.ci/pack-sample), then lints the OpenAPI document the built server
# serves (.ci/openapi-lint: Redocly CLI through npx, so Node.js 20.19+ is needed).
# PostgreSQL's server binaries come from Debian's packages; they are installed here when
# missing, so a fresh machine can test. The backend tests restore the Kiota tool
# (.config/dotnet-tools.json) to check the generated client.
#   ./test.sh                 the default run (about 10 minutes or less)
#   ./test.sh --filter X      any extra arguments go to `dotnet test`
set -euo pipefail
cd "$(dirname "$0")"

have_postgres() {
  command -v initdb >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}

if ! have_postgres; then
  echo "PostgreSQL server binaries not found: installing Debian's postgresql package" >&2
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
fi

# The Redis registry's tests start their own redis-server (Debian's redis-server package).
if ! command -v redis-server >/dev/null 2>&1; then
  echo "redis-server not found: installing Debian's redis-server package" >&2
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  fi
fi

dotnet test Paperclip.slnx -c Release "$@"
.ci/pack-sample
.ci/openapi-lint

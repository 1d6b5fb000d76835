#!/usr/bin/env bash
# make run: the whole system on loopback, in the foreground.
#   a Postgres primary and streaming replica under var/pg (kept between runs),
#   toy-mockapi, and toyapp with the simulated TEE provider.
# Ctrl-C or SIGTERM stops everything this script started.
# Environment (defaults in brackets): PORT [8080], METADATA_PORT [8090],
#   MOCK_API_PORT [3000], MOCK_API_TOKEN [mock-token], PG_PRIMARY_PORT [15432],
#   PG_REPLICA_PORT [15433], DATABASE_URL / DATABASE_REPLICA_URL (use these
#   servers instead of the local cluster), BUILD [build], VAR [var].
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
VAR=${VAR:-var}
export PORT=${PORT:-8080} METADATA_PORT=${METADATA_PORT:-8090}
export MOCK_API_PORT=${MOCK_API_PORT:-3000} MOCK_API_TOKEN=${MOCK_API_TOKEN:-mock-token}
export MOCK_API_URL=${MOCK_API_URL:-http://127.0.0.1:$MOCK_API_PORT}
export PG_PRIMARY_PORT=${PG_PRIMARY_PORT:-15432} PG_REPLICA_PORT=${PG_REPLICA_PORT:-15433}
export TEE_PROVIDER=${TEE_PROVIDER:-sim}
mkdir -p "$VAR"
chmod 755 "$VAR"
export TEE_SIM_SEED=${TEE_SIM_SEED:-$VAR/tee-sim.seed}

pids=()
own_cluster=0
stopped=0
# shellcheck disable=SC2317 # run through the traps
stop_all() {
    [ "$stopped" = 1 ] && return
    stopped=1
    echo
    echo "run: stopping"
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    if [ "$own_cluster" = 1 ]; then postgres/cluster.sh stop "$VAR/pg" || true; fi
    echo "run: stopped"
}
trap 'stop_all; exit 0' INT TERM
trap stop_all EXIT

if [ -z "${DATABASE_URL:-}" ]; then
    postgres/cluster.sh init "$VAR/pg"
    own_cluster=1
    eval "$(postgres/cluster.sh env "$VAR/pg" | sed 's/^/export /')"
fi

# Starts CMD with its output in LOG and waits (up to 15 s) for "listening".
start() {  # start LOG CMD...
    local log=$1; shift
    : > "$log"
    "$@" > "$log" 2>&1 &
    pids+=($!)
    for _ in $(seq 150); do
        grep -q listening "$log" && return 0
        kill -0 "${pids[-1]}" 2>/dev/null || break
        sleep 0.1
    done
    echo "run: $1 did not start; its log ($log):" >&2
    cat "$log" >&2
    exit 1
}

start "$VAR/toy-mockapi.log" "$BUILD/toy-mockapi" --port "$MOCK_API_PORT"
start "$VAR/toyapp.log" "$BUILD/toyapp"
app=${pids[1]}

cat <<EOF

toyapp is running (TEE provider: $TEE_PROVIDER; data under $VAR/, kept between runs)
  API          http://127.0.0.1:$PORT/
  metadata     http://127.0.0.1:$METADATA_PORT/info
  mock API     $MOCK_API_URL/stats
  logs         $VAR/toyapp.log, $VAR/toy-mockapi.log

Try:
  curl -s -H 'Content-Type: application/json' \\
       -d '{"userId":"alice@example.com","sensitivePayload":"I watched a movie, age: 22"}' \\
       http://127.0.0.1:$PORT/submit-data

Ctrl-C stops everything.
EOF
# Stay in the foreground while toyapp runs; `wait` returns early on a signal,
# and the trap then stops everything.
while kill -0 "$app" 2>/dev/null; do
    wait "$app" || true
done
echo "run: toyapp exited; see $VAR/toyapp.log" >&2
exit 1

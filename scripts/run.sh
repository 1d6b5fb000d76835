#!/usr/bin/env bash
# make run: the whole system on loopback, in the foreground.
#   a Postgres primary and streaming replica under var/pg (kept between runs),
#   a local EVM chain under var/chain (anvil, kept between runs) with the
#   deletion and app registries, toy-mockapi, and toyapp with the simulated
#   TEE provider, its release registered on the chain on first start.
# Ctrl-C or SIGTERM stops everything this script started.
# Environment (defaults in brackets): PORT [8080], METADATA_PORT [8090],
#   MOCK_API_PORT [3000], MOCK_API_TOKEN [mock-token], PG_PRIMARY_PORT [15432],
#   PG_REPLICA_PORT [15433], DATABASE_URL / DATABASE_REPLICA_URL (use these
#   servers instead of the local cluster), CHAIN_PORT [18545], CHAIN=off (no
#   chain), CHAIN_RPC_URL with CHAIN_DELETION_REGISTRY and CHAIN_APP_REGISTRY
#   (use that chain instead of a local one), BUILD [build], VAR [var].
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
own_chain=0
stopped=0
stop_all() {
    [ "$stopped" = 1 ] && return
    stopped=1
    echo
    echo "run: stopping"
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    if [ "$own_cluster" = 1 ]; then postgres/cluster.sh stop "$VAR/pg" || true; fi
    if [ "$own_chain" = 1 ]; then scripts/chain.sh stop "$VAR/chain" || true; fi
    echo "run: stopped"
}
trap 'stop_all; exit 0' INT TERM
trap stop_all EXIT

if [ -z "${DATABASE_URL:-}" ]; then
    postgres/cluster.sh init "$VAR/pg"
    own_cluster=1
    eval "$(postgres/cluster.sh env "$VAR/pg" | sed 's/^/export /')"
fi

# The chain: a local anvil under var/chain unless one is given (or CHAIN=off).
# The sim provider gives toyapp its keys only once its compose hash is in the
# app registry, as dstack's KMS does; chain.sh register adds it (and lets the
# enclave's address post deletions) the first time, and then does nothing.
if [ "${CHAIN:-on}" != off ] && [ -z "${CHAIN_RPC_URL:-}" ]; then
    export CHAIN_PORT=${CHAIN_PORT:-18545}
    BUILD=$BUILD scripts/chain.sh init "$VAR/chain"
    own_chain=1
    eval "$(scripts/chain.sh env "$VAR/chain" | sed 's/^/export /')"
    version=$(cat VERSION 2>/dev/null || sed -n 's/^#define TOY_VERSION "\(.*\)"/\1/p' src/toyapp/app.h)
    BUILD=$BUILD scripts/chain.sh register "$VAR/chain" "$version"
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

chain_lines() {
    if [ "${CHAIN:-on}" = off ]; then
        echo "  chain        off (CHAIN=off)"
        return
    fi
    echo "  chain        $CHAIN_RPC_URL (chain id ${CHAIN_ID:-as the node says})"
    echo "    deletion registry  ${CHAIN_DELETION_REGISTRY:-none}"
    echo "    app registry       ${CHAIN_APP_REGISTRY:-none}"
    echo "    history            $BUILD/toyctl history --rpc $CHAIN_RPC_URL --registry ${CHAIN_APP_REGISTRY:-?}"
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
$(chain_lines)

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

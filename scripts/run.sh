#!/usr/bin/env bash
# make run: the whole system on loopback, in the foreground.
#   a Postgres primary and streaming replica under var/pg (kept between runs),
#   each with a toy-attestd (its attestation metadata sidecar, with its
#   role's app-compose rendered from deploy/), a local EVM chain under
#   var/chain (anvil, kept between runs) with the deletion and app
#   registries, toy-mockapi, and toyapp with the simulated TEE provider, the
#   releases registered on the chain on first start.
# Ctrl-C or SIGTERM stops everything this script started, and it exits 0.
# A toy-mockapi that dies is reported and started again; a toyapp that dies
# ends the run (its log says why).
# Environment (defaults in brackets): PORT [8080], METADATA_PORT [8090],
#   MOCK_API_PORT [3000], MOCK_API_TOKEN [mock-token], PG_PRIMARY_PORT [15432],
#   PG_REPLICA_PORT [15433], PG_PRIMARY_METADATA_PORT [8091] and
#   PG_REPLICA_METADATA_PORT [8092] (their toy-attestd), DATABASE_URL /
#   DATABASE_REPLICA_URL (use these servers instead of the local cluster and
#   its sidecars), CHAIN_PORT [18545], CHAIN=off (no
#   chain), CHAIN_RPC_URL with CHAIN_DELETION_REGISTRY and CHAIN_APP_REGISTRY
#   (use that chain instead of a local one), BUILD [build], VAR [var],
#   PGDATA_DIR (where the local cluster lives, default VAR/pg; as root, when
#   the Postgres system user cannot reach VAR, /var/lib/toyapp-pg/<repo>).
set -euo pipefail
cd "$(dirname "$0")/.."

# The run is a foreground job of its own process group (job control), so
# that Ctrl-C reaches it and not make, which would report an error.
if [[ -t 0 && -z ${RUN_AS_JOB:-} ]]; then
    set -m
    RUN_AS_JOB=$$ "$0" "$@"
    exit $?
fi
# If the wrapper above goes (its terminal or pipe closed, `make run | tee`
# interrupted), this run stops everything too.
if [[ -n ${RUN_AS_JOB:-} ]]; then
    (
        while kill -0 "$RUN_AS_JOB" 2>/dev/null; do sleep 1; done
        kill -TERM $$ 2>/dev/null
    ) &
fi

BUILD=${BUILD:-build}
VAR=${VAR:-var}
export PORT=${PORT:-8080} METADATA_PORT=${METADATA_PORT:-8090}
export MOCK_API_PORT=${MOCK_API_PORT:-3000} MOCK_API_TOKEN=${MOCK_API_TOKEN:-mock-token}
export MOCK_API_URL=${MOCK_API_URL:-http://127.0.0.1:$MOCK_API_PORT}
export PG_PRIMARY_PORT=${PG_PRIMARY_PORT:-15432} PG_REPLICA_PORT=${PG_REPLICA_PORT:-15433}
PG_PRIMARY_METADATA_PORT=${PG_PRIMARY_METADATA_PORT:-8091} PG_REPLICA_METADATA_PORT=${PG_REPLICA_METADATA_PORT:-8092}
export TEE_PROVIDER=${TEE_PROVIDER:-sim}
mkdir -p "$VAR"
chmod 755 "$VAR"
VAR=$(cd "$VAR" && pwd)
export TEE_SIM_SEED=${TEE_SIM_SEED:-$VAR/tee-sim.seed}
# The app-compose this instance reports (and the chain registers), rendered
# from deploy/app as a deployment would be, the image named by the digest of
# this build's binary (there are no images here): a rebuild is a new release.
if [[ -z ${TOYAPP_COMPOSE_FILE:-} ]]; then
    digest=$(sha256sum <"$BUILD/toyapp" | cut -c1-64)
    scripts/app-compose.sh -o "$VAR/app-compose.json" app "TOYAPP_IMAGE=local/toyapp@sha256:$digest" \
        || { echo "run: scripts/app-compose.sh could not render deploy/app" >&2; exit 1; }
    export TOYAPP_COMPOSE_FILE=$VAR/app-compose.json
fi

# Can every other user traverse down to DIR?  (As root, Postgres runs as a
# system user of its own, which a 0700 home directory keeps out.)
reachable_by_others() {
    local d=$1
    while [[ $d != / ]]; do
        [[ $(stat -c %A "$d") == *x ]] || [[ $(stat -c %A "$d") == *t ]] || return 1
        d=$(dirname "$d")
    done
}
PGDIR=${PGDATA_DIR:-$VAR/pg}
if [[ -z ${PGDATA_DIR:-} && $EUID -eq 0 ]] && ! reachable_by_others "$VAR"; then
    PGDIR=/var/lib/toyapp-pg/$(printf '%s' "$VAR" | sha256sum | cut -c1-12)/pg
    mkdir -p "$(dirname "$PGDIR")"
    chmod 755 /var/lib/toyapp-pg "$(dirname "$PGDIR")"
    echo "run: the Postgres user cannot reach $VAR (a parent directory is closed to others);"
    echo "run: the local cluster lives in $PGDIR instead (kept between runs)"
fi

pids=()
own_cluster=0
own_chain=0
stopped=0
# shellcheck disable=SC2317 # run through the traps
stop_all() {
    [[ $stopped == 1 ]] && return
    stopped=1
    # A closed output (the terminal, or tee) must not cut the stopping short.
    trap '' PIPE
    { echo; echo "run: stopping"; } 2>/dev/null || true
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    if [[ $own_cluster == 1 ]]; then postgres/cluster.sh stop "$PGDIR" >/dev/null 2>&1 || true; fi
    if [[ $own_chain == 1 ]]; then scripts/chain.sh stop "$VAR/chain" >/dev/null 2>&1 || true; fi
    echo "run: stopped" 2>/dev/null || true
}
# A closed terminal (HUP) or output pipe (PIPE: `make run | tee`, tee gone)
# stops everything too.
trap 'stop_all; exit 0' INT TERM HUP PIPE
trap stop_all EXIT

if [[ -z ${DATABASE_URL:-} ]]; then
    postgres/cluster.sh init "$PGDIR"
    own_cluster=1
    eval "$(postgres/cluster.sh env "$PGDIR" | sed 's/^/export /')"
fi

# The chain: a local anvil under var/chain unless one is given (or CHAIN=off).
# The sim provider gives toyapp its keys only once its compose hash is in the
# app registry, as dstack's KMS does; chain.sh register adds it (and lets the
# enclave's address post deletions) the first time, and then does nothing.
# Each local Postgres node's toy-attestd runs its role's app-compose,
# rendered from deploy/ with the sidecar binary named by its SHA-256 (there
# is no image here): its compose hash, like a deployment's, names what runs.
if [[ $own_cluster == 1 ]]; then
    attestd_digest=$(sha256sum "$BUILD/toy-attestd" | cut -c1-64)
    for role in pg-primary pg-replica; do
        scripts/app-compose.sh -o "$VAR/$role.app-compose.json" "$role" \
            "TOY_ATTESTD_IMAGE=local/toy-attestd@sha256:$attestd_digest"
    done
fi
if [[ ${CHAIN:-on} != off && -z ${CHAIN_RPC_URL:-} ]]; then
    export CHAIN_PORT=${CHAIN_PORT:-18545}
    BUILD=$BUILD scripts/chain.sh init "$VAR/chain"
    own_chain=1
    eval "$(scripts/chain.sh env "$VAR/chain" | sed 's/^/export /')"
    version=$(cat VERSION 2>/dev/null || sed -n 's/^#define TOY_VERSION "\(.*\)"/\1/p' src/toyapp/app.h)
    BUILD=$BUILD scripts/chain.sh register "$VAR/chain" "$version"
    # The sidecars' releases too: the sim provider, like dstack's KMS,
    # gives keys only to a registered compose hash, whatever the role.
    if [[ $own_cluster == 1 ]]; then
        for role in pg-primary pg-replica; do
            TOYAPP_COMPOSE_FILE=$VAR/$role.app-compose.json BUILD=$BUILD \
                scripts/chain.sh register "$VAR/chain" "$version" >/dev/null
        done
    fi
fi

# Starts CMD with its output in LOG and waits (up to 15 s) for "listening";
# its pid is $started.
started=
start() {  # start LOG CMD...
    local log=$1
    shift
    : >"$log"
    "$@" >"$log" 2>&1 &
    started=$!
    pids+=("$started")
    for _ in $(seq 150); do
        grep -q listening "$log" && return 0
        kill -0 "$started" 2>/dev/null || break
        sleep 0.1
    done
    echo "run: ${*: -1} did not start; its log ($log):" >&2
    cat "$log" >&2
    exit 1
}

if [[ $own_cluster == 1 ]]; then
    pg_where="primary 127.0.0.1:$PG_PRIMARY_PORT, replica 127.0.0.1:$PG_REPLICA_PORT (in $PGDIR)"
else
    pg_where="the servers of DATABASE_URL and DATABASE_REPLICA_URL"
fi

attestd_lines() {
    [[ $own_cluster == 1 ]] || return 0
    echo "  Postgres metadata (toy-attestd)  primary http://127.0.0.1:$PG_PRIMARY_METADATA_PORT/info," \
        "replica http://127.0.0.1:$PG_REPLICA_METADATA_PORT/info"
    echo "    compare      $BUILD/toyctl sim-collateral --seed $TEE_SIM_SEED > $VAR/collateral.json &&"
    echo "                 $BUILD/toyctl compare-instances --app http://127.0.0.1:$METADATA_PORT" \
        "--pg-primary http://127.0.0.1:$PG_PRIMARY_METADATA_PORT --pg-replica http://127.0.0.1:$PG_REPLICA_METADATA_PORT" \
        "--expect-compose pg-primary=$VAR/pg-primary.app-compose.json --expect-compose pg-replica=$VAR/pg-replica.app-compose.json" \
        "--collateral $VAR/collateral.json --allow-sim"
}

chain_lines() {
    if [[ ${CHAIN:-on} == off ]]; then
        echo "  chain        off (CHAIN=off)"
        return
    fi
    echo "  chain        $CHAIN_RPC_URL (chain id ${CHAIN_ID:-as the node says})"
    echo "    deletion registry  ${CHAIN_DELETION_REGISTRY:-none}"
    echo "    app registry       ${CHAIN_APP_REGISTRY:-none}"
    echo "    history            $BUILD/toyctl history --rpc $CHAIN_RPC_URL --registry ${CHAIN_APP_REGISTRY:-?}"
}

if [[ $own_cluster == 1 ]]; then
    start "$VAR/toy-attestd-pg-primary.log" env TOYAPP_ROLE=pg-primary CVM_ID=pg-primary \
        METADATA_PORT="$PG_PRIMARY_METADATA_PORT" TOYAPP_COMPOSE_FILE="$VAR/pg-primary.app-compose.json" \
        "$BUILD/toy-attestd"
    start "$VAR/toy-attestd-pg-replica.log" env TOYAPP_ROLE=pg-replica CVM_ID=pg-replica \
        METADATA_PORT="$PG_REPLICA_METADATA_PORT" TOYAPP_COMPOSE_FILE="$VAR/pg-replica.app-compose.json" \
        "$BUILD/toy-attestd"
fi
start "$VAR/toy-mockapi.log" "$BUILD/toy-mockapi" --port "$MOCK_API_PORT"
mock=$started
start "$VAR/toyapp.log" "$BUILD/toyapp"
app=$started

cat <<EOF

toyapp is running (TEE provider: $TEE_PROVIDER; data under $VAR/, kept between runs)
  API          http://127.0.0.1:$PORT/
  dashboard    http://127.0.0.1:$PORT/dashboard
  metadata     http://127.0.0.1:$METADATA_PORT/info
  compose hash $(sha256sum <"$TOYAPP_COMPOSE_FILE" | cut -c1-64) ($TOYAPP_COMPOSE_FILE)
  mock API     $MOCK_API_URL/stats
  Postgres     $pg_where
$(attestd_lines)
  logs         $VAR/toyapp.log, $VAR/toy-mockapi.log
$(chain_lines)

Try:
  curl -s -H 'Content-Type: application/json' \\
       -d '{"userId":"alice@example.com","sensitivePayload":"I watched a movie, age: 22"}' \\
       http://127.0.0.1:$PORT/submit-data
  (then POST /delete-data/RECEIPT_ID with its deletionToken, and
   curl -s http://127.0.0.1:$PORT/receipts/RECEIPT_ID/deletion)

Ctrl-C stops everything.
EOF

# Stay in the foreground while toyapp runs.  `wait -n` returns when a child
# ends (or early, on a signal: the trap then stops everything).
while kill -0 "$app" 2>/dev/null; do
    rc=0
    wait -n "$app" "$mock" 2>/dev/null || rc=$?
    if ! kill -0 "$mock" 2>/dev/null && kill -0 "$app" 2>/dev/null; then
        echo "run: toy-mockapi exited (status $rc; its log: $VAR/toy-mockapi.log.1); starting it again" >&2
        mv -f "$VAR/toy-mockapi.log" "$VAR/toy-mockapi.log.1"
        start "$VAR/toy-mockapi.log" "$BUILD/toy-mockapi" --port "$MOCK_API_PORT"
        mock=$started
        echo "run: toy-mockapi is back on $MOCK_API_URL" >&2
    fi
done
echo "run: toyapp exited; see $VAR/toyapp.log" >&2
exit 1

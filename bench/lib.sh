# lib.sh - what the benchmarks that run one toyapp share: a temporary
# directory removed at exit (kept with BENCH_KEEP=1), free loopback ports,
# and a Postgres primary with its synchronous replica, toy-mockapi and
# toyapp (sim TEE, no chain) started there.  Sourced, never run.
# shellcheck shell=bash

# shellcheck source=tests/integration/lib.sh
source "$ROOT/tests/integration/lib.sh"

# bench_start NAME: sets TMP, PG ports, MOCK, API, META, APP (toyapp's pid)
# and DATABASE_URL; stops everything at exit.  Needs ROOT, BUILD, say, die;
# TOYAPP_BIN (default $BUILD/toyapp) names the toyapp to run.
bench_start() {
    TMP=$(mktemp -d "/tmp/toyapp-$1.XXXXXX")
    chmod 755 "$TMP"
    PIDS=()
    trap bench_cleanup EXIT
    local base
    base=$(free_ports 5)
    [[ -n $base ]] || die "no 5 free ports on 127.0.0.1"
    export PG_PRIMARY_PORT=$base PG_REPLICA_PORT=$((base + 1))
    MOCK=$((base + 2)) API=$((base + 3)) META=$((base + 4))
    say "starting Postgres, toy-mockapi and toyapp"
    "$ROOT/postgres/cluster.sh" init "$TMP/pg" >/dev/null || die "the Postgres cluster did not start"
    eval "$("$ROOT/postgres/cluster.sh" env "$TMP/pg" | sed 's/^/export /')"
    MOCK_API_TOKEN=t "$BUILD/toy-mockapi" --port "$MOCK" >"$TMP/mock.log" 2>&1 &
    PIDS+=($!)
    PORT=$API METADATA_PORT=$META MOCK_API_URL=http://127.0.0.1:$MOCK MOCK_API_TOKEN=t TEE_PROVIDER=sim \
        TEE_SIM_SEED=$TMP/seed CVM_ID=$1 CHAIN=off "${TOYAPP_BIN:-$BUILD/toyapp}" >"$TMP/toyapp.out" 2>"$TMP/toyapp.log" &
    APP=$!
    PIDS+=("$APP")
    wait_listening "$APP" "$TMP/toyapp.out" || die "toyapp did not start: $(cat "$TMP/toyapp.log")"
}

# shellcheck disable=SC2317 # reached through the EXIT trap
bench_cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    "$ROOT/postgres/cluster.sh" stop "$TMP/pg" >/dev/null 2>&1 || true
    if [[ -n ${BENCH_KEEP:-} ]]; then say "kept $TMP"; else rm -rf "$TMP"; fi
}

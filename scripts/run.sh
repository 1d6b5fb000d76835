#!/usr/bin/env bash
# make run: the whole system on loopback, in the foreground.
#   a Postgres primary and streaming replica under var/pg (kept between runs),
#   toy-mockapi, and toyapp with the simulated TEE provider.
# Ctrl-C or SIGTERM stops everything this script started, and it exits 0.
# A toy-mockapi that dies is reported and started again; a toyapp that dies
# ends the run (its log says why).
# Environment (defaults in brackets): PORT [8080], METADATA_PORT [8090],
#   MOCK_API_PORT [3000], MOCK_API_TOKEN [mock-token], PG_PRIMARY_PORT [15432],
#   PG_REPLICA_PORT [15433], DATABASE_URL / DATABASE_REPLICA_URL (use these
#   servers instead of the local cluster), BUILD [build], VAR [var],
#   PGDATA_DIR (where the local cluster lives, default VAR/pg; as root, when
#   the Postgres system user cannot reach VAR, /var/lib/toyapp-pg/<repo>).
set -euo pipefail
cd "$(dirname "$0")/.."

# The run is a foreground job of its own process group (job control), so
# that Ctrl-C reaches it and not make, which would report an error.
if [[ -t 0 && -z ${RUN_AS_JOB:-} ]]; then
    set -m
    RUN_AS_JOB=1 "$0" "$@"
    exit $?
fi

BUILD=${BUILD:-build}
VAR=${VAR:-var}
export PORT=${PORT:-8080} METADATA_PORT=${METADATA_PORT:-8090}
export MOCK_API_PORT=${MOCK_API_PORT:-3000} MOCK_API_TOKEN=${MOCK_API_TOKEN:-mock-token}
export MOCK_API_URL=${MOCK_API_URL:-http://127.0.0.1:$MOCK_API_PORT}
export PG_PRIMARY_PORT=${PG_PRIMARY_PORT:-15432} PG_REPLICA_PORT=${PG_REPLICA_PORT:-15433}
export TEE_PROVIDER=${TEE_PROVIDER:-sim}
mkdir -p "$VAR"
chmod 755 "$VAR"
VAR=$(cd "$VAR" && pwd)
export TEE_SIM_SEED=${TEE_SIM_SEED:-$VAR/tee-sim.seed}

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
stopped=0
# shellcheck disable=SC2317 # run through the traps
stop_all() {
    [[ $stopped == 1 ]] && return
    stopped=1
    echo
    echo "run: stopping"
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    if [[ $own_cluster == 1 ]]; then postgres/cluster.sh stop "$PGDIR" >/dev/null || true; fi
    echo "run: stopped"
}
trap 'stop_all; exit 0' INT TERM
trap stop_all EXIT

if [[ -z ${DATABASE_URL:-} ]]; then
    postgres/cluster.sh init "$PGDIR"
    own_cluster=1
    eval "$(postgres/cluster.sh env "$PGDIR" | sed 's/^/export /')"
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
    echo "run: $1 did not start; its log ($log):" >&2
    cat "$log" >&2
    exit 1
}

if [[ $own_cluster == 1 ]]; then
    pg_where="primary 127.0.0.1:$PG_PRIMARY_PORT, replica 127.0.0.1:$PG_REPLICA_PORT (in $PGDIR)"
else
    pg_where="the servers of DATABASE_URL and DATABASE_REPLICA_URL"
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
  mock API     $MOCK_API_URL/stats
  Postgres     $pg_where
  logs         $VAR/toyapp.log, $VAR/toy-mockapi.log

Try:
  curl -s -H 'Content-Type: application/json' \\
       -d '{"userId":"alice@example.com","sensitivePayload":"I watched a movie, age: 22"}' \\
       http://127.0.0.1:$PORT/submit-data

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

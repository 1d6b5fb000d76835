#!/usr/bin/env bash
# Integration test of postgres/cluster.sh: a primary and a streaming replica
# on 127.0.0.1. Usage: tests/integration/test_cluster.sh [DIR]
#   DIR must be new or empty (default: a fresh temporary directory); it is
#   removed at the end. Ports: PG_PRIMARY_PORT and PG_REPLICA_PORT
#   (default: a free pair below 32768). The last line is "N passed, M failed".
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CLUSTER=$ROOT/postgres/cluster.sh
# Free ports below the ephemeral range (32768+), where client sockets
# would collide with a listener.
free_pair() {
    local p
    for ((p = 21000 + $$ % 4000 * 2; p < 32700; p += 2)); do
        if ! ss -ltnH "( sport = :$p or sport = :$((p + 1)) )" | grep -q .; then
            echo "$p"; return
        fi
    done
    echo 25432
}
if [ -z "${PG_PRIMARY_PORT:-}" ]; then
    base=$(free_pair)
    export PG_PRIMARY_PORT=$base PG_REPLICA_PORT=$((base + 1))
fi
export PG_REPLICA_PORT=${PG_REPLICA_PORT:-$((PG_PRIMARY_PORT + 1))}
export PG_WAIT_SECONDS=${PG_WAIT_SECONDS:-30}
export PGCONNECT_TIMEOUT=5
CMD_TIMEOUT=120 # seconds, for any one cluster.sh call
SQL_TIMEOUT=20  # seconds, for any one psql call

passed=0 failed=0
start_time=$SECONDS

ok() { passed=$((passed + 1)); printf 'ok    %s\n' "$1"; }
fail() { failed=$((failed + 1)); printf 'FAIL  %s\n' "$1"; [[ -z ${2:-} ]] || printf '%s\n' "$2" | sed 's/^/      /' | tail -n 12; }
finish() {
    printf 'elapsed: %ss\n' $((SECONDS - start_time))
    printf '%s passed, %s failed\n' "$passed" "$failed"
    [[ $failed -eq 0 ]]
    exit
}

command -v psql >/dev/null || { fail "psql is installed" "apt-get install postgresql"; finish; }

if [[ $# -gt 1 ]]; then echo "usage: $0 [DIR]" >&2; exit 2; fi
if [[ $# -eq 1 ]]; then
    DIR=$(realpath -m -- "$1")
    if [[ -e $DIR ]] && { [[ ! -d $DIR ]] || [[ -n $(ls -A "$DIR") ]]; }; then
        echo "$0: $DIR must be a new or empty directory (it is removed afterwards)" >&2
        exit 2
    fi
else
    DIR=$(mktemp -d "${TMPDIR:-/tmp}/toyapp-pg-test.XXXXXX")
fi
DIR2=$DIR-other

cleanup() {
    timeout "$CMD_TIMEOUT" "$CLUSTER" stop "$DIR" >/dev/null 2>&1
    rm -rf -- "$DIR" "$DIR2"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cluster() { timeout "$CMD_TIMEOUT" "$CLUSTER" "$@" 2>&1; }
# sql URL STATEMENT: prints the result unaligned, tuples only.
sql() { timeout "$SQL_TIMEOUT" psql "$1" -X -q -t -A -v ON_ERROR_STOP=1 -c "$2" 2>&1; }

# Polls `sql URL QUERY` until it prints WANT, for at most SECS seconds.
wait_for() {
    local url=$1 query=$2 want=$3 secs=$4 got deadline
    deadline=$((SECONDS + secs))
    while :; do
        got=$(sql "$url" "$query") && [[ $got == "$want" ]] && return 0
        ((SECONDS < deadline)) || return 1
        sleep 0.1
    done
}

echo "cluster in $DIR, ports $PG_PRIMARY_PORT/$PG_REPLICA_PORT"

# ---- init -------------------------------------------------------------------
if out=$(cluster init "$DIR"); then ok "init"; else fail "init" "$out"; finish; fi

mode=$(stat -c %a "$DIR/secrets" 2>/dev/null)
if [[ $mode == 600 ]]; then ok "secrets file is mode 0600"; else fail "secrets file is mode 0600 (got ${mode:-none})"; fi

status=$(cluster status "$DIR")
if grep -Eq "^primary +port $PG_PRIMARY_PORT +up" <<<"$status"; then ok "status: primary up"; else fail "status: primary up" "$status"; fi
if grep -Eq "^replica +port $PG_REPLICA_PORT +up +streaming +replay lag [0-9]+ bytes" <<<"$status"; then
    ok "status: replica up and streaming"
else
    fail "status: replica up and streaming" "$status"
fi

if command -v ss >/dev/null; then
    listen=$(ss -ltnH "( sport = :$PG_PRIMARY_PORT or sport = :$PG_REPLICA_PORT )" | awk '{print $4}' | sort -u)
    if [[ -n $listen ]] && ! grep -vq '^127\.0\.0\.1:' <<<"$listen"; then
        ok "both nodes listen on 127.0.0.1 only"
    else
        fail "both nodes listen on 127.0.0.1 only" "$listen"
    fi
fi

envout=$(cluster env "$DIR")
DATABASE_URL=$(sed -n 's/^DATABASE_URL=//p' <<<"$envout")
DATABASE_REPLICA_URL=$(sed -n 's/^DATABASE_REPLICA_URL=//p' <<<"$envout")
if [[ $DATABASE_URL == postgresql://toyapp:*@127.0.0.1:$PG_PRIMARY_PORT/toyapp &&
    $DATABASE_REPLICA_URL == postgresql://toyapp:*@127.0.0.1:$PG_REPLICA_PORT/toyapp ]]; then
    ok "env prints both URLs"
else
    fail "env prints both URLs" "$envout"
    finish
fi

# ---- replication ------------------------------------------------------------
token="row-$$-$RANDOM"
if out=$(sql "$DATABASE_URL" "CREATE TABLE cluster_test (id int PRIMARY KEY, note text NOT NULL);
        INSERT INTO cluster_test VALUES (1, '$token')"); then
    ok "write on the primary"
else
    fail "write on the primary" "$out"
fi
if wait_for "$DATABASE_REPLICA_URL" "SELECT note FROM cluster_test WHERE id = 1" "$token" 5; then
    ok "row visible on the replica within 5 s"
else
    fail "row visible on the replica within 5 s"
fi

out=$(sql "$DATABASE_REPLICA_URL" "INSERT INTO cluster_test VALUES (2, 'x')")
if [[ $? -ne 0 && $out == *"read-only transaction"* ]]; then
    ok "replica refuses writes"
else
    fail "replica refuses writes" "$out"
fi

# ---- a port taken by something else -----------------------------------------
p1=$PG_PRIMARY_PORT p2=$PG_REPLICA_PORT
out=$(PG_PRIMARY_PORT=$p2 PG_REPLICA_PORT=$p1 cluster init "$DIR2")
if [[ $? -ne 0 && $out == *"in use by another process"* && ! -e $DIR2 ]]; then
    ok "init refuses a port in use, creates nothing"
else
    fail "init refuses a port in use, creates nothing" "$out"
fi

# ---- init again -------------------------------------------------------------
sum_before=$(sha256sum "$DIR/secrets" "$DIR/cluster.conf")
if out=$(cluster init "$DIR") && [[ $out == *"nothing changed"* ]]; then
    ok "second init succeeds and changes nothing"
else
    fail "second init succeeds and changes nothing" "$out"
fi
if [[ $(sha256sum "$DIR/secrets" "$DIR/cluster.conf") == "$sum_before" ]]; then
    ok "second init keeps secrets and settings"
else
    fail "second init keeps secrets and settings"
fi
if [[ $(sql "$DATABASE_URL" "SELECT string_agg(note, ',') FROM cluster_test") == "$token" ]]; then
    ok "row kept after second init"
else
    fail "row kept after second init"
fi

# ---- primary down -----------------------------------------------------------
if out=$(cluster stop-primary "$DIR"); then ok "stop-primary"; else fail "stop-primary" "$out"; fi
status=$(cluster status "$DIR")
if grep -Eq "^primary +port $PG_PRIMARY_PORT +down" <<<"$status" &&
    grep -Eq "^replica +port $PG_REPLICA_PORT +up" <<<"$status"; then
    ok "status: primary down, replica up"
else
    fail "status: primary down, replica up" "$status"
fi
if [[ $(sql "$DATABASE_REPLICA_URL" "SELECT note FROM cluster_test WHERE id = 1") == "$token" ]]; then
    ok "replica answers reads with the primary down"
else
    fail "replica answers reads with the primary down"
fi
if out=$(sql "$DATABASE_URL" "SELECT 1"); then
    fail "primary is unreachable after stop-primary" "$out"
else
    ok "primary is unreachable after stop-primary"
fi

# ---- primary back -----------------------------------------------------------
if out=$(cluster start-primary "$DIR"); then ok "start-primary"; else fail "start-primary" "$out"; fi
if out=$(sql "$DATABASE_URL" "INSERT INTO cluster_test VALUES (2, 'after restart')"); then
    ok "writes work again on the primary"
else
    fail "writes work again on the primary" "$out"
fi
if wait_for "$DATABASE_REPLICA_URL" "SELECT note FROM cluster_test WHERE id = 2" "after restart" 15; then
    ok "replica resumes streaming within 15 s"
else
    fail "replica resumes streaming within 15 s" "$(cluster status "$DIR")"
fi

# ---- stop -------------------------------------------------------------------
if out=$(cluster stop "$DIR"); then ok "stop"; else fail "stop" "$out"; fi
status=$(cluster status "$DIR")
if grep -Eq "^primary +port $PG_PRIMARY_PORT +down" <<<"$status" &&
    grep -Eq "^replica +port $PG_REPLICA_PORT +down" <<<"$status"; then
    ok "status: both down after stop"
else
    fail "status: both down after stop" "$status"
fi

cleanup
if [[ ! -e $DIR ]]; then ok "DIR removed"; else fail "DIR removed"; fi
finish

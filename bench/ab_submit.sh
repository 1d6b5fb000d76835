#!/usr/bin/env bash
# A/B of two toyapp binaries on POST /submit-data: which one costs less?
#
# Each binary gets its own fresh Postgres primary + replica (so the two
# databases grow alike), and the runs alternate A, B, B, A, A, B, ... so that
# neither always goes first.  Before each run both databases get VACUUM
# (ANALYZE) and a CHECKPOINT.  For each run it prints wrk's req/s, p50 and
# p99, and what a request cost in CPU: of the binary's Postgres nodes (every
# process of both; primary backends, WAL sender, replica replay) and of the
# toyapp process, from /proc before and after.  Throughput on a shared
# 2-core machine is noisy; the CPU per request is the steadier figure.
#
# Usage: bench/ab_submit.sh A_TOYAPP B_TOYAPP
#   e.g. git worktree add /tmp/base HEAD~3 && make -C /tmp/base build/toyapp
#        bench/ab_submit.sh /tmp/base/build/toyapp build/toyapp
# Environment: BUILD (toy-mockapi's directory, default build), AB_ROUNDS (3:
# each binary runs that many times), BENCH_SECONDS (8), AB_PORT_BASE (16400:
# ports BASE..BASE+3 for Postgres, BASE+10.. for the servers; below 32768).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
[[ $# -eq 2 ]] || { echo "usage: $0 A_TOYAPP B_TOYAPP" >&2; exit 2; }
BIN_A=$(realpath "$1") BIN_B=$(realpath "$2")
BUILD=${BUILD:-build}
ROUNDS=${AB_ROUNDS:-3}
SECS=${BENCH_SECONDS:-8}
BASE=${AB_PORT_BASE:-16400}
HZ=$(getconf CLK_TCK)
for b in "$BIN_A" "$BIN_B" "$BUILD/toy-mockapi"; do
    [[ -x $b ]] || { echo "ab: $b is not an executable" >&2; exit 2; }
done
command -v wrk >/dev/null || { echo "ab: wrk is not installed (scripts/deps.sh bench)" >&2; exit 2; }

TMP=$(mktemp -d /tmp/toyapp-ab.XXXXXX)
chmod 755 "$TMP"
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    for n in a b; do
        if [[ -d $TMP/pg$n ]]; then postgres/cluster.sh stop "$TMP/pg$n" >/dev/null 2>&1 || true; fi
    done
    rm -rf "$TMP"
}
trap cleanup EXIT

PG_PRIMARY_PORT=$BASE PG_REPLICA_PORT=$((BASE + 1)) postgres/cluster.sh init "$TMP/pga" >"$TMP/init-a.log" 2>&1 \
    || { cat "$TMP/init-a.log" >&2; exit 2; }
PG_PRIMARY_PORT=$((BASE + 2)) PG_REPLICA_PORT=$((BASE + 3)) postgres/cluster.sh init "$TMP/pgb" >"$TMP/init-b.log" 2>&1 \
    || { cat "$TMP/init-b.log" >&2; exit 2; }
MOCK=$((BASE + 10))
"$BUILD/toy-mockapi" --port "$MOCK" >"$TMP/mock.log" 2>&1 &
PIDS+=($!)

# start NAME BINARY PORT: toyapp on its own cluster; prints its pid.
start() {
    (
        eval "$(postgres/cluster.sh env "$TMP/pg$1" | sed 's/^/export /')"
        export TEE_PROVIDER=sim TEE_SIM_SEED=$TMP/seed MOCK_API_URL=http://127.0.0.1:$MOCK CHAIN=off \
            PORT=$3 METADATA_PORT=$(($3 + 1)) CVM_ID=ab-$1
        exec "$2"
    ) >"$TMP/toyapp-$1.log" 2>&1 &
    echo $!
}
APP_a=$(start a "$BIN_A" $((BASE + 20)))
APP_b=$(start b "$BIN_B" $((BASE + 30)))
PIDS+=("$APP_a" "$APP_b")
for port in $((BASE + 20)) $((BASE + 30)); do
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
        sleep 0.1
    done
done

# CPU ticks (user + system) of the given pids.
ticks() {
    local t=0 p f
    for p in "$@"; do
        f=$(cut -d' ' -f14,15 "/proc/$p/stat" 2>/dev/null) || continue
        t=$((t + ${f% *} + ${f#* }))
    done
    echo "$t"
}
# Every process of cluster NAME: both postmasters and their children.
pg_pids() {
    local pm node
    for node in primary replica; do
        pm=$(head -1 "$TMP/pg$1/$node/postmaster.pid")
        echo "$pm"
        pgrep -P "$pm" || true
    done
}
settle() {
    local n url node
    for n in a b; do
        url=$(postgres/cluster.sh env "$TMP/pg$n" | sed -n 's/^DATABASE_URL=//p')
        PGOPTIONS='-c client_min_messages=error' psql "$url" -qc "VACUUM (ANALYZE)" >/dev/null
    done
    for n in a b; do
        for node in primary replica; do postgres/cluster.sh sql "$TMP/pg$n" $node CHECKPOINT >/dev/null; done
    done
    sleep 1
}

printf '%-4s %3s %10s %8s %8s %12s %14s\n' bin run req/s p50_ms p99_ms pg_us/req toyapp_us/req
run=0
for ((r = 0; r < ROUNDS; r++)); do
    order="a b"
    ((r % 2)) && order="b a"
    for n in $order; do
        run=$((run + 1))
        settle
        [[ $n == a ]] && app=$APP_a port=$((BASE + 20)) || app=$APP_b port=$((BASE + 30))
        # shellcheck disable=SC2046
        pg0=$(ticks $(pg_pids "$n")) a0=$(ticks "$app")
        out=$(BENCH_KIND=submit BENCH_RUN=$((run * 2)) wrk -t2 -c64 -d"${SECS}s" --latency \
              -s bench/http.lua "http://127.0.0.1:$port/submit-data" 2>&1 | grep '^BENCH') \
            || { echo "ab: wrk failed against $n" >&2; exit 1; }
        sleep 1   # what the run left for the sequencer and the replica counts too
        # shellcheck disable=SC2046
        pg1=$(ticks $(pg_pids "$n")) a1=$(ticks "$app")
        kv() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$out"; }
        reqs=$(kv requests)
        printf '%-4s %3d %10.0f %8s %8s %12d %14d\n' "$(tr ab AB <<<"$n")" "$run" "$(kv rps)" "$(kv p50_ms)" \
            "$(kv p99_ms)" $(((pg1 - pg0) * 1000000 / HZ / reqs)) $(((a1 - a0) * 1000000 / HZ / reqs))
    done
done
echo "A = $BIN_A"
echo "B = $BIN_B"

#!/usr/bin/env bash
# shellcheck disable=SC2317 # cleanup is reached through trap
# What a deletion costs on chain: gas per deletion at batch sizes 1, 10 and
# 100 (the poster's CHAIN_BATCH_MAX), each as a ratio to batch size 1
# measured in the same run, and how fast the poster records a backlog
# (deletions/s from the outbox to a receipt on chain); then deletions end
# to end through toyapp (POST /delete-data to recorded on chain, toyapp's
# own poster thread), against the same deletions with CHAIN=off (request to
# acknowledged) in the same run.
#
# On 127.0.0.1 only, in a temporary directory: a Postgres primary and
# replica (postgres/cluster.sh) and a local anvil (scripts/chain.sh) with
# the registries deployed.  chain_driver writes outbox rows as toyapp writes
# them (signed deletion attestations) and runs the poster; the gas is the
# receipts' gasUsed, as chain_txs stores it.  What one deletion would cost
# on Base is computed from the measured gas and the stated gas price.
# See bench/README.md ("Chain cost").
#
# Usage: BUILD=build bench/bench_chain.sh       (after make all)
# Environment: BUILD (default build); CHAIN_BENCH_DELETIONS (rows per batch
#   size, default 2000); CHAIN_BENCH_E2E (deletions through toyapp, default
#   10000); BASE_GAS_PRICE_GWEI (default 0.005, see below); ETH_USD (default
#   2000); BENCH_KEEP=1 keeps the temporary directory.
# Exit status: 0 when every deletion was recorded (targets met or not), 1
# when one was not, 2 on a setup failure.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
DRIVER=$BUILD/chain_driver
export TOYCTL=$BUILD/toyctl
N=${CHAIN_BENCH_DELETIONS:-2000}
E2E=${CHAIN_BENCH_E2E:-10000}
# Base mainnet's minimum L2 base fee, at which its base fee sits in normal
# operation: 5,000,000 wei = 0.005 gwei (Base documentation, "Network Fees",
# docs.base.org/base-chain/network-information/network-fees, as read when
# this benchmark was written; the priority fee, usually far below it, is
# left out).  The L1 data fee, which Base charges besides, depends on
# Ethereum's blob price and is not modelled.
GWEI=${BASE_GAS_PRICE_GWEI:-0.005}
USD=${ETH_USD:-2000}
T_GAS=30000          # the target: gas per deletion at batch size 100, at most
T_RATE=1000          # deletions/s recorded, at least (the issue's end-to-end target)

say() { printf 'bench: %s\n' "$*" >&2; }
die() {
    printf 'bench: ERROR: %s\n' "$*" >&2
    exit 2
}
if ! [[ $N =~ ^[1-9][0-9]*$ ]] || ((N < 100)); then die "CHAIN_BENCH_DELETIONS=$N: at least 100"; fi
if ! [[ $E2E =~ ^[1-9][0-9]*$ ]] || ((E2E < 100)); then die "CHAIN_BENCH_E2E=$E2E: at least 100"; fi
[[ -x $DRIVER && -x $TOYCTL && -x $BUILD/toyapp ]] || die "$DRIVER, $TOYCTL or $BUILD/toyapp missing (make all)"
command -v wrk >/dev/null || die "wrk is not installed (apt-get install wrk)"
command -v psql >/dev/null || die "psql is not installed (apt-get install postgresql)"

free_port() {
    local p
    for ((p = $1; p < 32700; p++)); do
        ss -ltnH "( sport = :$p )" | grep -q . || { echo "$p"; return; }
    done
}
base=$((24000 + $$ % 2000 * 3))
PG_PRIMARY_PORT=$(free_port "$base")
PG_REPLICA_PORT=$(free_port $((PG_PRIMARY_PORT + 1)))
CHAIN_PORT=$(free_port $((PG_REPLICA_PORT + 1)))
API_PORT=$(free_port $((CHAIN_PORT + 1)))
META_PORT=$(free_port $((API_PORT + 1)))
# anvil writes its whole state (every block, receipt and storage slot) to
# state.json every CHAIN_STATE_INTERVAL seconds; tens of thousands of
# records make that tens of MB each time, which is not what is measured.
export PG_PRIMARY_PORT PG_REPLICA_PORT CHAIN_PORT PG_WAIT_SECONDS=60 CHAIN_STATE_INTERVAL=3600

DIR=$(mktemp -d "${TMPDIR:-/tmp}/toyapp-bench-chain.XXXXXX")
chmod 0755 "$DIR"
APP=
cleanup() {
    if [[ -n $APP ]]; then kill -TERM "$APP" 2>/dev/null && wait "$APP" 2>/dev/null; fi
    scripts/chain.sh stop "$DIR/chain" >/dev/null 2>&1 || true
    postgres/cluster.sh stop "$DIR/pg" >/dev/null 2>&1 || true
    if [[ ${BENCH_KEEP:-} == 1 ]]; then say "kept $DIR"; else rm -rf -- "$DIR"; fi
}
trap cleanup EXIT

say "Postgres on $PG_PRIMARY_PORT/$PG_REPLICA_PORT, chain on $CHAIN_PORT, in $DIR"
postgres/cluster.sh init "$DIR/pg" >"$DIR/setup.log" 2>&1 || die "Postgres did not start ($DIR/setup.log)"
eval "$(postgres/cluster.sh env "$DIR/pg" | sed 's/^/export /')"
scripts/chain.sh init "$DIR/chain" >>"$DIR/setup.log" 2>&1 || die "the chain did not start ($DIR/setup.log)"
eval "$(scripts/chain.sh env "$DIR/chain" | sed 's/^/export /')"
export TEE_SIM_SEED=$DIR/seed APP_ID=toyapp-bench
scripts/chain.sh register "$DIR/chain" bench >>"$DIR/setup.log" 2>&1 || die "registering failed ($DIR/setup.log)"
"$DRIVER" migrate >>"$DIR/setup.log" 2>&1 || die "migrations failed"

sql() { psql "$DATABASE_URL" -X -q -t -A -v ON_ERROR_STOP=1 -c "$1"; }
now_ms() { date +%s%3N; }

status=0
declare -A gas_per
for b in 1 10 100; do
    n=$((b == 1 ? N / 20 : b == 10 ? N / 4 : N))
    CHAIN=off "$DRIVER" enqueue "$n" "b$b" >/dev/null
    last=$(sql "SELECT coalesce(max(id), 0) FROM chain_txs")
    want=$(($(sql "SELECT count(*) FROM deletion_outbox WHERE block_number IS NOT NULL") + n))
    t0=$(now_ms)
    if ! CHAIN_BATCH_MAX=$b "$DRIVER" run 600 "$want" >"$DIR/run-$b.log" 2>&1; then
        say "batch $b: not every deletion was recorded ($DIR/run-$b.log)"
        status=1
    fi
    ms=$(($(now_ms) - t0))
    read -r gas recs txs <<<"$(sql "SELECT sum(gas_used), sum(records), count(*) FROM chain_txs
        WHERE id > $last AND outcome = 'recorded'" | tr '|' ' ')"
    gas_per[$b]=$((gas / recs))
    rate=$((recs * 1000 / (ms ? ms : 1)))
    printf 'batch %3d: %5d deletions in %3d transactions, %6d gas per deletion, %5d deletions/s recorded (outbox to receipt, %d ms)\n' \
        "$b" "$recs" "$txs" "${gas_per[$b]}" "$rate" "$ms"
    [[ $b == 100 ]] && rate100=$rate
done

awk -v g1="${gas_per[1]}" -v g10="${gas_per[10]}" -v g100="${gas_per[100]}" -v t="$T_GAS" \
    -v r="$rate100" -v tr="$T_RATE" -v gwei="$GWEI" -v usd="$USD" 'BEGIN {
    printf "gas per deletion against batch size 1 in this run: batch 10 %.3f, batch 100 %.3f\n", g10 / g1, g100 / g1
    printf "target: at most %d gas per deletion at batch 100: %d, %.3f of the target (%s)\n",
        t, g100, g100 / t, (g100 <= t ? "met" : "NOT met")
    printf "the poster alone at batch 100 (outbox to receipt): %d deletions/s, %.2f times the %d/s target (%s)\n",
        r, r / tr, tr, (r >= tr ? "met" : "NOT met")
    eth = g100 * gwei * 1e-9
    printf "on Base at %s gwei (its minimum L2 base fee) and %d USD/ETH: %.3g ETH = %.5f USD per deletion at batch 100",
        gwei, usd, eth, eth * usd
    printf " (%.5f USD at batch 1), L2 execution only\n", g1 * gwei * 1e-9 * usd
}'

# ---- end to end through toyapp ----------------------------------------------------------
# E2E receipts written straight into the database (receipt PREFIX_n, its
# deletion token the 32-byte number n), then E2E POST /delete-data from wrk
# (bench/delete.lua: 2 threads, 64 connections, each receipt once), and the
# times from the database's own clock: each deletion's transaction
# (deleted_at), and the poster's transaction that recorded its receipt on
# chain (chain_txs.resolved_at).
start_toyapp() {  # start_toyapp LOG [VAR=VALUE...]
    local log=$1 i
    shift
    env PORT="$API_PORT" METADATA_PORT="$META_PORT" CVM_ID=bench "$@" "$BUILD/toyapp" >"$log" 2>&1 &
    APP=$!
    for ((i = 0; i < 150; i++)); do
        grep -qs listening "$log" && return 0
        kill -0 "$APP" 2>/dev/null || break
        sleep 0.1
    done
    die "toyapp did not start ($log)"
}
stop_toyapp() {
    kill -TERM "$APP" 2>/dev/null && wait "$APP" 2>/dev/null
    APP=
}
# e2e PREFIX WAIT_SQL: deletes E2E receipts PREFIX_n through toyapp, until
# WAIT_SQL (a count of outbox rows with an id above $OID0) reaches E2E;
# prints the start time (ms since the epoch)
e2e() {
    local prefix=$1 want=$2 deadline w
    sql "INSERT INTO user_data_receipts (receipt_id, user_id_hash, payload_commitment, safe_derivative,
             deletion_token_hash, source_cvm)
         SELECT '${prefix}_' || n, sha256(('u' || n)::bytea), sha256(('p' || n)::bytea),
             'category:sports,bracket:18-25', sha256(decode(lpad(to_hex(n), 64, '0'), 'hex')), 'bench'
         FROM generate_series(1, $E2E) AS n" >/dev/null
    sql "VACUUM ANALYZE user_data_receipts" >/dev/null
    local t0
    t0=$(now_ms)
    BENCH_N=$E2E BENCH_PREFIX=$prefix BENCH_THREADS=2 wrk -t2 -c64 -d600s --timeout 10s \
        -s bench/delete.lua "http://127.0.0.1:$API_PORT" >"$DIR/wrk-$prefix.out" 2>&1 &
    w=$!
    deadline=$((SECONDS + 300))
    until [[ $(sql "$want") -ge $E2E ]]; do
        if ((SECONDS > deadline)); then
            kill -INT "$w" 2>/dev/null; wait "$w" 2>/dev/null
            say "$prefix: not every deletion got through in 300 s ($DIR)"
            return 1
        fi
        sleep 0.5
    done
    kill -INT "$w" 2>/dev/null
    wait "$w" 2>/dev/null || true
    echo "$t0"
}
ms_since() {  # ms_since T0 SQL_TIMESTAMP_EXPR: milliseconds from T0 to the expression
    sql "SELECT round(extract(epoch FROM ($2)) * 1000 - $1)::bigint"
}

start_toyapp "$DIR/toyapp-chain.log"
OID0=$(sql "SELECT coalesce(max(id), 0) FROM deletion_outbox")
t0=$(e2e e2e "SELECT count(*) FROM deletion_outbox WHERE id > $OID0 AND block_number IS NOT NULL") || status=1
if [[ -n $t0 ]]; then
    ack=$(ms_since "$t0" "SELECT max(deleted_at) FROM user_data_receipts WHERE receipt_id LIKE 'e2e\_%'")
    rec=$(ms_since "$t0" "SELECT max(t.resolved_at) FROM chain_txs t JOIN deletion_outbox o ON o.tx_hash = t.tx_hash
                          WHERE o.receipt_id LIKE 'e2e\_%'")
    # The log's side, after the chain's: a deletion_posted entry each.
    logged=$(sql "SELECT count(DISTINCT receipt_id) FROM audit_log WHERE action = 'deletion_posted'
                  AND receipt_id LIKE 'e2e\_%'")
    read -r e2e_txs e2e_records <<<"$(sql "SELECT count(DISTINCT t.id), count(*) FROM chain_txs t
        JOIN deletion_outbox o ON o.tx_hash = t.tx_hash WHERE o.receipt_id LIKE 'e2e\_%'" | tr '|' ' ')"
fi
stop_toyapp
start_toyapp "$DIR/toyapp-off.log" CHAIN=off
OID0=$(sql "SELECT coalesce(max(id), 0) FROM deletion_outbox")
t1=$(e2e ref "SELECT count(*) FROM deletion_outbox WHERE id > $OID0") || status=1
[[ -n $t1 ]] && ref=$(ms_since "$t1" "SELECT max(deleted_at) FROM user_data_receipts WHERE receipt_id LIKE 'ref\_%'")
stop_toyapp
if [[ -n $t0 && -n $t1 ]]; then
    printf 'end to end: %d deletions, POST /delete-data to recorded on chain in %d ms (acknowledged in %d ms),' \
        "$E2E" "$rec" "$ack"
    printf ' %d transactions, %d deletion_posted entries\n' "$e2e_txs" "$logged"
    [[ $e2e_records == "$E2E" && $logged == "$E2E" ]] || { say "end to end: records or entries missing"; status=1; }
    awk -v n="$E2E" -v rec="$rec" -v ack="$ack" -v ref="$ref" -v tr="$T_RATE" 'BEGIN {
        e = n * 1000 / rec; r = n * 1000 / ref
        printf "reference: the same %d deletions with CHAIN=off, request to acknowledged: %d ms, %d deletions/s\n", n, ref, r
        printf "end to end (request to recorded on chain): %d deletions/s, %.2f of the CHAIN=off rate; %.2f times the %d/s target (%s)\n",
            e, e / r, e / tr, tr, (e >= tr ? "met" : "NOT met")
    }'
fi
exit "$status"

#!/usr/bin/env bash
# shellcheck disable=SC2317 # cleanup is reached through trap
# What a deletion costs on chain: gas per deletion at batch sizes 1, 10 and
# 100 (the poster's CHAIN_BATCH_MAX), each as a ratio to batch size 1
# measured in the same run, and how fast the poster records a backlog
# (deletions/s from the outbox to a receipt on chain).
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
#   size, default 2000); BASE_GAS_PRICE_GWEI (default 0.005, see below);
#   ETH_USD (default 2000); BENCH_KEEP=1 keeps the temporary directory.
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
[[ -x $DRIVER && -x $TOYCTL ]] || die "$DRIVER or $TOYCTL missing (make all)"
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
export PG_PRIMARY_PORT PG_REPLICA_PORT CHAIN_PORT PG_WAIT_SECONDS=60

DIR=$(mktemp -d "${TMPDIR:-/tmp}/toyapp-bench-chain.XXXXXX")
chmod 0755 "$DIR"
cleanup() {
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
    printf "poster throughput at batch 100: %d deletions/s, %.2f times the %d/s target (%s)\n",
        r, r / tr, tr, (r >= tr ? "met" : "NOT met")
    eth = g100 * gwei * 1e-9
    printf "on Base at %s gwei (its minimum L2 base fee) and %d USD/ETH: %.3g ETH = %.5f USD per deletion at batch 100",
        gwei, usd, eth, eth * usd
    printf " (%.5f USD at batch 1), L2 execution only\n", g1 * gwei * 1e-9 * usd
}'
exit "$status"

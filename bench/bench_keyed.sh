#!/usr/bin/env bash
# POST /submit-data with an Idempotency-Key on every request against the same
# without keys, on one stack, in pairs of runs.
#
# bench_http.sh measures the two once each, on its own stack, a few minutes
# apart: its printed ratio moved from 0.77 to 1.04 between runs of one build.
# Here, on 127.0.0.1 in a temporary directory (a Postgres primary with its
# synchronous replica, toy-mockapi, toyapp with the sim TEE and no chain),
# after a warm-up, BENCH_PAIRS pairs of wrk runs of BENCH_SECONDS each
# alternate the order (unkeyed then keyed, keyed then unkeyed, ...), so that
# what drifts during the run (the tables' growth, a checkpoint) weighs on
# both kinds alike.  Printed: each pair's ratio, keyed over unkeyed, their
# median, and the ratio of all keyed requests to all unkeyed ones.
#
# Usage: BUILD=build bench/bench_keyed.sh   (after `make all`)
# Environment: BUILD (default build), BENCH_PAIRS (6), BENCH_SECONDS (10),
# BENCH_CONNECTIONS (64), BENCH_KEEP=1 (keep the temporary directory).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
PAIRS=${BENCH_PAIRS:-6}
SECS=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-64}
say() { printf 'bench_keyed: %s\n' "$*" >&2; }
die() { printf 'bench_keyed: ERROR: %s\n' "$*" >&2; exit 2; }
command -v wrk >/dev/null || die "wrk is not installed (scripts/deps.sh bench)"
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
bench_start keyed
for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$API/ready" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -sf "http://127.0.0.1:$API/ready" >/dev/null || die "toyapp is not ready: $(cat "$TMP/toyapp.log")"

# rps KIND SECONDS RUN: one wrk run of KIND, its requests per second.  RUN
# keeps each run's user ids and keys apart from every other run's.
rps() {
    local out
    out=$(BENCH_KIND=$1 BENCH_RUN=$3 wrk -t2 -c"$CONNS" -d"$2s" -s bench/http.lua \
          "http://127.0.0.1:$API/submit-data" 2>&1 | grep '^BENCH') || die "wrk failed ($1)"
    [[ $out == *" non2xx=0 "* ]] || die "$1: not every answer was 2xx: $out"
    sed -E 's/.* rps=([0-9.]+) .*/\1/' <<<"$out"
}

rps submit 3 1 >/dev/null
rps submit_keyed 3 2 >/dev/null
: >"$TMP/pairs"
for p in $(seq "$PAIRS"); do
    if ((p % 2)); then
        u=$(rps submit "$SECS" $((2 * p + 1)))
        k=$(rps submit_keyed "$SECS" $((2 * p + 2)))
    else
        k=$(rps submit_keyed "$SECS" $((2 * p + 2)))
        u=$(rps submit "$SECS" $((2 * p + 1)))
    fi
    r=$(awk -v k="$k" -v u="$u" 'BEGIN { printf "%.3f", k / u }')
    printf 'pair %d: submit-data %8.0f req/s, keyed %8.0f req/s, keyed / without %s\n' "$p" "$u" "$k" "$r"
    printf '%s %s %s\n' "$r" "$u" "$k" >>"$TMP/pairs"
done
sort -n "$TMP/pairs" | awk '
    { r[NR] = $1; su += $2; sk += $3 }
    END {
        med = NR % 2 ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
        printf "submit-data keyed / without keys, median of %d pairs: %.3f (pairs %.3f to %.3f);" \
               " all keyed requests / all unkeyed: %.3f  (target >= 0.90: %s)\n",
            NR, med, r[1], r[NR], sk / su, (med >= 0.90 ? "met" : "MISSED")
    }'

#!/usr/bin/env bash
# bench_dcap.sh — verify-quote of a real quote with its collateral against
# @phala/dcap-qvl on the same input, in the same run, as a ratio.
#   1. in process: rt_dcap (build/dcap_batch --bench) and dcap-qvl (node
#      bench/bench_dcap.js) each verify the quote DCAP_RUNS times (2000);
#   2. per command: `toyctl verify-quote` and dcap-qvl's own CLI
#      (node_modules/@phala/dcap-qvl/test_case.js verify), DCAP_PROCS (20)
#      runs each, alternating; the median wall time of one.
# Input: tests/data/attestation/dcapqvl-tdx-v4.quote.bin with its collateral
# at 2025-07-04T00:00:00Z (UpToDate for both).  Environment: BUILD (build).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RUNS=${DCAP_RUNS:-2000}
PROCS=${DCAP_PROCS:-20}
Q=tests/data/attestation/dcapqvl-tdx-v4.quote.bin
C=tests/data/attestation/dcapqvl-tdx-v4.collateral.json
T=2025-07-04T00:00:00Z
TS=$(date -u -d "$T" +%s)
for f in "$BUILD/dcap_batch" "$BUILD/toyctl" node_modules/@phala/dcap-qvl/test_case.js; do
    [ -e "$f" ] || { echo "bench_dcap: missing $f (make all; scripts/deps.sh)" >&2; exit 2; }
done

ours=$("$BUILD/dcap_batch" --bench $Q $C $T "$RUNS")
ref=$(node bench/bench_dcap.js $Q $C $T "$RUNS")
echo "$ours"
echo "$ref"
a=$(sed -n 's/^rt_dcap: \([0-9.]*\) ms.*/\1/p' <<<"$ours")
b=$(sed -n 's/^dcap-qvl: \([0-9.]*\) ms.*/\1/p' <<<"$ref")
awk -v a="$a" -v b="$b" 'BEGIN { printf "in process: rt_dcap %.3f ms, dcap-qvl %.3f ms per verification: dcap-qvl takes %.1fx rt_dcap'"'"'s time\n", a, b, b / a }'

# One command each, alternating, so that both see the same machine.
t_ours=() t_ref=()
now_ns() { date +%s%N; }
for _ in $(seq "$PROCS"); do
    s=$(now_ns); "$BUILD/toyctl" verify-quote $Q --collateral $C --now $T >/dev/null; e=$(now_ns)
    t_ours+=($(( (e - s) / 1000 )))
    s=$(now_ns); node node_modules/@phala/dcap-qvl/test_case.js verify --time "$TS" $Q $C >/dev/null; e=$(now_ns)
    t_ref+=($(( (e - s) / 1000 )))
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
mo=$(median "${t_ours[@]}"); mr=$(median "${t_ref[@]}")
awk -v a="$mo" -v b="$mr" -v n="$PROCS" 'BEGIN { printf "per command (median of %d): toyctl verify-quote %.1f ms, dcap-qvl test_case.js verify %.1f ms: %.1fx\n", n, a / 1000, b / 1000, b / a }'

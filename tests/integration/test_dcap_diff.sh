#!/usr/bin/env bash
# test_dcap_diff.sh — toyctl's DCAP verifier (runtime/rt_dcap.c) against the
# reference, @phala/dcap-qvl (npm, pinned in package.json), on the same
# inputs.  Checks:
#   - the four real quotes of tests/data/attestation at the times its README
#     gives verify to what it says (UpToDate, UpToDate, certificate not yet
#     valid, no matching TCB level), by both verifiers;
#   - a sim quote: dcap-qvl parses it and verifies it to UpToDate when given
#     the sim root, and rejects it at the certificate chain with Intel's;
#     toyctl the same (--allow-sim, and without it);
#   - DCAP_MUTANTS (default 10,000) mutants of the real and sim bases, a byte
#     changed in every region of the quote and of the collateral, plus the
#     collateral's window edges: both verifiers give the same verdict (the TCB
#     status and advisories, or the same class of failure), or a disagreement
#     tests/dcap/classes.js explains (docs/attestation.md, "The differential").
# dcap-qvl verifies every case in one node process, build/dcap_batch in one C
# process, in parallel.  Ends with "N passed, M failed".
# Environment: BUILD (default build), TOYCTL, DCAP_MUTANTS.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
TOYCTL=${TOYCTL:-$BUILD/toyctl}
BATCH=$BUILD/dcap_batch
N=${DCAP_MUTANTS:-10000}
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=86"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}halt_on_error=1:exitcode=87:print_stacktrace=1"

passed=0 failed=0
pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for f in "$BATCH" "$TOYCTL" node_modules/@phala/dcap-qvl/src/verify.js; do
    [ -e "$f" ] || { echo "missing $f (make all; scripts/deps.sh installs node_modules)"; echo "0 passed, 1 failed"; exit 1; }
done

D=tests/data/attestation
# qvl QUOTE COLLATERAL TIME [ROOT_DER]: dcap-qvl's verdict, "ok STATUS" or "fail CLASS".
qvl() {
    node -e '
const fs = require("fs");
const { QuoteVerifier } = require("./node_modules/@phala/dcap-qvl/src/verify.js");
const { classify } = require("./tests/dcap/classes.js");
const [q, c, t, root] = process.argv.slice(1);
const v = root ? QuoteVerifier.newWithRootCa(fs.readFileSync(root)) : QuoteVerifier.newProd();
try { console.log("ok " + v.verify(fs.readFileSync(q), JSON.parse(fs.readFileSync(c)), Date.parse(t) / 1000).status); }
catch (e) { console.log("fail " + classify(e)); }' "$@"
}
# ours QUOTE COLLATERAL TIME [--allow-sim]: toyctl's verdict, the same form.
ours() {
    local out rc
    out=$("$TOYCTL" verify-quote "$1" --collateral "$2" --now "$3" "${@:4}"); rc=$?
    if [ $rc -eq 0 ]; then
        printf 'ok %s\n' "$(printf '%s\n' "$out" | sed -n 's/^note: TCB status \([A-Za-z]*\).*/\1/p')"
    elif [ $rc -eq 1 ]; then
        printf 'fail %s\n' "$(printf '%s\n' "$out" | sed -n 's/^note: the quote is refused: .*(\([a-z_]*\)); later.*/\1/p')"
    else
        printf 'exit %d\n' $rc
    fi
}
# fixture NAME QUOTE COLLATERAL TIME WANT [ROOT_DER]
fixture() {
    local a b
    local sim=()
    [ -z "${6:-}" ] || sim=(--allow-sim)
    a=$(qvl "$2" "$3" "$4" "${@:6}"); b=$(ours "$2" "$3" "$4" "${sim[@]}")
    if [ "$a" = "$5" ] && [ "$b" = "$5" ]; then pass; echo "ok   $1: both verifiers say \"$5\""
    else fail "$1: dcap-qvl \"$a\", toyctl \"$b\", expected \"$5\""; fi
}

echo "== the fixtures, at the times tests/data/attestation/README.txt gives"
fixture "dcapqvl-tdx-v4 at 2025-07-04" $D/dcapqvl-tdx-v4.quote.bin $D/dcapqvl-tdx-v4.collateral.json 2025-07-04T00:00:00Z "ok UpToDate"
fixture "dstack-getquote-a with collateral 4 at 2026-03-05" $D/dstack-getquote-a.quote.bin $D/dcapqvl-tdx-v5-td15.collateral.json 2026-03-05T00:00:00Z "ok UpToDate"
fixture "dstack-getquote-b with collateral 4 (PCK leaf not yet valid)" $D/dstack-getquote-b.quote.bin $D/dcapqvl-tdx-v5-td15.collateral.json 2026-03-05T00:00:00Z "fail cert_expired"
fixture "dcapqvl-tdx-v5-td15 (no matching TCB level)" $D/dcapqvl-tdx-v5-td15.quote.bin $D/dcapqvl-tdx-v5-td15.collateral.json 2026-03-05T00:00:00Z "fail tcb_no_match"
fixture "dcapqvl-tdx-v4 after its TCB info's nextUpdate" $D/dcapqvl-tdx-v4.quote.bin $D/dcapqvl-tdx-v4.collateral.json 2025-08-01T00:00:00Z "fail collateral_expired"

echo "== a sim quote"
SIMT=2026-06-01T00:00:00Z
mkdir -p "$work/sim"
if "$BATCH" --sim "$work/sim" $SIMT; then pass; else fail "dcap_batch --sim"; fi
S=$work/sim
fixture "sim quote, sim root given to both" "$S/sim.quote.bin" "$S/sim-uptodate.collateral.json" $SIMT "ok UpToDate" "$S/sim-root.der"
fixture "sim quote, OutOfDate collateral" "$S/sim.quote.bin" "$S/sim-outofdate.collateral.json" $SIMT "ok OutOfDate" "$S/sim-root.der"
a=$(qvl "$S/sim.quote.bin" "$S/sim-uptodate.collateral.json" $SIMT); b=$(ours "$S/sim.quote.bin" "$S/sim-uptodate.collateral.json" $SIMT)
if [ "$a" = "fail cert_chain" ] && [ "$b" = "fail cert_chain" ]; then
    pass; echo "ok   sim quote with Intel's root: both reject it at the certificate chain, and only there"
else fail "sim quote with Intel's root: dcap-qvl \"$a\", toyctl \"$b\""; fi
out=$("$TOYCTL" verify-quote "$S/sim.quote.bin" --collateral "$S/sim-uptodate.collateral.json" --now $SIMT --allow-sim)
n_marked=$(printf '%s\n' "$out" | grep -c '^ok .*\[SIM root: --allow-sim\]$')
if [ "$n_marked" -ge 10 ] && printf '%s\n' "$out" | grep -q '^note: the quote is SIMULATED'; then
    pass; echo "ok   --allow-sim: $n_marked lines say the SIM root vouches for them"
else fail "--allow-sim lines not marked ($n_marked)"; fi

echo "== $N mutants"
if node tests/dcap/diff.js gen "tests/dcap/bases.json,$S/sim-bases.json" "$work/out" "$N"; then pass; else fail "gen"; fi
node tests/dcap/diff.js ref "$work/out" & ref_pid=$!
"$BATCH" "$work/out/mutants.bin" > "$work/out/ours.txt"; batch_rc=$?
wait $ref_pid; ref_rc=$?
if [ $batch_rc -eq 0 ] && [ $ref_rc -eq 0 ]; then pass; else fail "dcap_batch exit $batch_rc, dcap-qvl exit $ref_rc"; fi
node tests/dcap/diff.js compare "$work/out"
if [ -f "$work/out/counts" ]; then
    read -r total same explained bad < "$work/out/counts"
    passed=$((passed + same + explained)); failed=$((failed + bad))
    if [ "$total" -ge "$N" ]; then pass; else fail "only $total cases"; fi
else
    fail "compare did not finish"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

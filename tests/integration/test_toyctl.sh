#!/usr/bin/env bash
# test_toyctl.sh — toyctl, the auditor's offline verifier, end to end.
#
# Self-contained: the documents it verifies come from tests/unit/toyctl_fixtures.c,
# which makes reports, a consistency proof, a receipt with its proof and a
# sim attestation the way the service does (generated structs, rt_ser,
# rt_merkle, the sim TEE provider), so no server is needed.  Checks:
#   - every valid document verifies (exit 0), and the expected refusals
#     (sim without --allow-sim, wrong key, wrong nonce, wrong payload, logs
#     in the wrong order, the recorded dstack quote that binds another key);
#   - tampering: every value at every path of every document, one at a time
#     (hex digit flipped, integer + 1, string changed, null <-> value, field
#     or array element removed), makes verification fail (exit 1);
#   - re-formatting (white space, key order, \u escapes) changes nothing;
#   - canonical: hand-written RFC 8785 vectors, the fixtures round-trip,
#     and every malformed input (tests/data/toyctl/bad, JSONTestSuite n_*)
#     is refused with exit 1;
#   - usage errors exit 2.
#
# Environment: TOYCTL (default build/toyctl) and FIXTURES_BIN (default
# build/toyctl_fixtures, built from tests/unit/toyctl_fixtures.c with
# -DTOYCTL_FIXTURES_MAIN); either one missing is built into a temporary
# directory with gcc, adding TOYCTL_CFLAGS (e.g. -fsanitize=address,undefined).
# The last line is "N passed, M failed"; the exit status is non-zero on failure.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0

pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }

# A sanitizer report must never pass for an ordinary verification failure
# (ASan's default exit code is 1, the same as "not verified").
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=86"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}halt_on_error=1:exitcode=87:print_stacktrace=1"

# shellcheck disable=SC2046,SC2086 # the flags are word lists
build() { # build OUT SOURCES...
    local out=$1; shift
    # Ragel output and rt_parse.c fall through on purpose.
    gcc -std=c11 -Wall -Wextra -Werror -O2 -g -D_GNU_SOURCE -Wno-implicit-fallthrough \
        ${TOYCTL_CFLAGS:-} -Iruntime -Igen "$@" runtime/*.c gen/*.c \
        $(pkg-config --cflags --libs json-c nettle libcrypto libssl) -lm -o "$out"
}

TOYCTL=${TOYCTL:-build/toyctl}
FIXTURES_BIN=${FIXTURES_BIN:-build/toyctl_fixtures}
if [ ! -x "$TOYCTL" ]; then
    echo "building toyctl into $work"
    build "$work/toyctl" src/toyctl/*.c || { echo "0 passed, 1 failed"; exit 1; }
    TOYCTL=$work/toyctl
fi
if [ ! -x "$FIXTURES_BIN" ]; then
    echo "building toyctl_fixtures into $work"
    build "$work/toyctl_fixtures" -DTOYCTL_FIXTURES_MAIN tests/unit/toyctl_fixtures.c || { echo "0 passed, 1 failed"; exit 1; }
    FIXTURES_BIN=$work/toyctl_fixtures
fi

fx=$work/fx
mkdir -p "$fx"
if "$FIXTURES_BIN" "$fx"; then pass; else fail "toyctl_fixtures"; echo "$passed passed, $failed failed"; exit 1; fi
PUB=$(cat "$fx/pubkey.hex")
PAYLOAD=$(cat "$fx/payload.txt")
NONCE=$(cat "$fx/nonce.txt")

# expect RC NAME CMD... : runs toyctl with CMD, checks the exit status and
# that the verdict line matches it.
expect() {
    local want=$1 name=$2; shift 2
    local out rc
    out=$("$TOYCTL" "$@" 2>"$work/stderr"); rc=$?
    local last=${out##*$'\n'}
    if [ "$rc" -ne "$want" ]; then
        fail "$name: exit $rc, expected $want"; printf '%s\n' "$out" | grep -v '^ok' | head -20; head -20 "$work/stderr"
    elif [ "$want" -eq 0 ] && [[ "$last" != "verified: all "* ]]; then
        fail "$name: last line is '$last'"
    elif [ "$want" -eq 1 ] && [ -n "$out" ] && [[ "$last" != "NOT verified: "* ]]; then
        fail "$name: last line is '$last'"
    else
        pass
    fi
    LAST_OUT=$out
}
# has NAME PATTERN: the previous expect's output has a line matching PATTERN.
has() {
    if printf '%s\n' "$LAST_OUT" | grep -q -- "$2"; then pass; else fail "$1: no line matching '$2'"; fi
}

echo "== valid documents"
expect 0 "report" verify-report "$fx/report.json"
has "report, unbound key note" '^note: publicKey not bound (use --pubkey or --attestation)$'
expect 0 "report --pubkey" verify-report "$fx/report.json" --pubkey "$PUB"
expect 0 "report --pubkey (upper case)" verify-report "$fx/report.json" --pubkey "${PUB^^}"
expect 0 "empty-log report" verify-report "$fx/report_empty.json" --pubkey "$PUB"
expect 0 "old report" verify-report "$fx/old_report.json" --pubkey "$PUB"
expect 0 "report from stdin" verify-report - --pubkey "$PUB" < "$fx/report.json"
expect 0 "report --attestation --allow-sim" verify-report "$fx/report.json" --attestation "$fx/attestation.json" --allow-sim
has "sim attestation" '^ok   attestation: quote: signature by the attestation key over bytes \[0,632) \[SIM root: --allow-sim\]$'
has "sim attestation" '^note: attestation: the quote is SIMULATED'
has "sim attestation, no collateral" '^note: attestation: no --collateral'
expect 0 "report --attestation --allow-sim --collateral" verify-report "$fx/report.json" --attestation "$fx/attestation.json" --allow-sim --collateral "$fx/collateral.json"
has "sim collateral" '^note: attestation: TCB status UpToDate (SIMULATED); advisories: none$'
has "sim compose hash" '^ok   attestation: the report.s composeHash is the one measured in RTMR3$'
expect 0 "report --attestation --allow-sim --nonce" verify-report "$fx/report.json" --attestation "$fx/attestation.json" --allow-sim --nonce "$NONCE"
expect 0 "report, attestation without nonce" verify-report "$fx/report.json" --attestation "$fx/attestation_nononce.json" --allow-sim
has "no nonce" 'SHA-256(publicKey) || 32 zero bytes'
expect 0 "receipt" verify-receipt "$fx/receipt.json" --proof "$fx/receipt_proof.json"
expect 0 "receipt --pubkey --payload" verify-receipt "$fx/receipt.json" --proof "$fx/receipt_proof.json" --pubkey "$PUB" --payload "$PAYLOAD"
has "payload" '^ok   receipt: payloadCommitment is SHA-256(salt || payload)$'
expect 0 "receipt, options first" verify-receipt --payload="$PAYLOAD" --proof="$fx/receipt_proof.json" "$fx/receipt.json"
expect 0 "log 6 -> 13" verify-log "$fx/old_report.json" "$fx/new_report.json" --proof "$fx/consistency.json" --pubkey "$PUB"
has "log chain" "^ok   new report's window figures are its totals minus the old report's totals$"
expect 0 "log 13 -> 13" verify-log "$fx/new_report.json" "$fx/report.json" --proof "$fx/consistency_same.json"
expect 0 "log 0 -> 6 (the empty proof)" verify-log "$fx/report_empty.json" "$fx/old_report.json" --proof "$fx/consistency_0.json" --pubkey "$PUB"
expect 1 "log 0 -> 6 without a proof" verify-log "$fx/report_empty.json" "$fx/old_report.json" --pubkey "$PUB"
expect 1 "log 6 -> 13 with the proof from 0" verify-log "$fx/old_report.json" "$fx/new_report.json" --proof "$fx/consistency_0.json"

echo "== refusals"
expect 1 "sim attestation without --allow-sim" verify-report "$fx/report.json" --attestation "$fx/attestation.json"
has "sim refused" '^FAIL attestation: simulated quote accepted: .*refused without --allow-sim$'
expect 1 "wrong --pubkey" verify-report "$fx/report.json" --pubkey "$(printf '%064d' 7)"
expect 1 "wrong --nonce" verify-report "$fx/report.json" --attestation "$fx/attestation.json" --allow-sim --nonce other
expect 1 "attestation for another nonce state" verify-report "$fx/report.json" --attestation "$fx/attestation.json" --allow-sim --nonce ""
expect 1 "wrong payload" verify-receipt "$fx/receipt.json" --proof "$fx/receipt_proof.json" --payload "$PAYLOAD."
expect 1 "receipt wrong --pubkey" verify-receipt "$fx/receipt.json" --proof "$fx/receipt_proof.json" --pubkey "$(printf '%064d' 7)"
expect 1 "log backwards" verify-log "$fx/new_report.json" "$fx/old_report.json" --proof "$fx/consistency.json"
expect 1 "log with the 13 -> 13 proof" verify-log "$fx/old_report.json" "$fx/new_report.json" --proof "$fx/consistency_same.json"
expect 1 "log without a proof" verify-log "$fx/old_report.json" "$fx/new_report.json"
expect 1 "log, report as proof" verify-log "$fx/old_report.json" "$fx/new_report.json" --proof "$fx/report.json"
expect 1 "receipt proof as receipt" verify-receipt "$fx/receipt_proof.json" --proof "$fx/receipt_proof.json"
expect 1 "missing file" verify-report "$work/does-not-exist.json"
has "missing file" '^FAIL report parses as JSON: .*cannot open'
expect 1 "not JSON" verify-report tests/data/toyctl/bad/dup-key.json
has "duplicate key" 'duplicate key "a"'
expect 1 "not an object" verify-report tests/data/toyctl/canon/whitespace.in.json
# The recorded dstack quote (tests/data/tee) binds other report_data: the
# event log replays and the compose hash matches, the key binding fails.
python3 - "$fx/pubkey.hex" "$work/attestation_dstack.json" <<'EOF'
import json, sys
d = json.load(open("tests/data/tee/dstack-getquote-a.json"))
json.dump({"quote": d["quote"], "eventLog": d["event_log"], "reportData": d["report_data"],
           "nonce": "", "teeProvider": "dstack", "publicKey": open(sys.argv[1]).read(), "enclaveAddress": None},
          open(sys.argv[2], "w"))
EOF
expect 1 "recorded dstack quote" verify-report "$fx/report_dstack.json" --attestation "$work/attestation_dstack.json"
has "dstack replay" '^ok   attestation: event log replays to the quote.s RTMR0-3 (28 events)$'
has "dstack RTMR3" '^ok   attestation: event log: RTMR3 event digests match their content$'
has "dstack compose" '^ok   attestation: the report.s composeHash is the one measured in RTMR3$'
has "dstack PCK chain" '^ok   attestation: PCK chain (the quote.s, 3 certificates) to the root "Intel SGX Root CA"'
has "dstack note" '^note: attestation: no --collateral'
has "dstack binding" '^FAIL attestation: reportData is SHA-256(publicKey) || 32 zero bytes (no nonce): the key half does not match$'
expect 1 "sim attestation, sim collateral, no --allow-sim" verify-report "$fx/report.json" --attestation "$fx/attestation.json" --collateral "$fx/collateral.json"
has "sim refused" '^FAIL attestation: simulated quote accepted: .*refused without --allow-sim$'
expect 1 "sim report, dstack attestation" verify-report "$fx/report.json" --attestation "$work/attestation_dstack.json"

echo "== verify-quote"
A=tests/data/attestation
C4=$A/dcapqvl-tdx-v5-td15.collateral.json
expect 0 "real quote, collateral, at its time" verify-quote $A/dcapqvl-tdx-v4.quote.bin --collateral $A/dcapqvl-tdx-v4.collateral.json --now 2025-07-04T00:00:00Z
has "real quote status" '^note: TCB status UpToDate; advisories: none$'
has "pinned root" '^ok   root: Intel SGX Root CA, pinned by SHA-256 44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3$'
expect 1 "real quote, collateral expired" verify-quote $A/dcapqvl-tdx-v4.quote.bin --collateral $A/dcapqvl-tdx-v4.collateral.json --now 2025-08-01T00:00:00Z
has "expired" '^FAIL TCB info: issueDate <= now <= nextUpdate: expired at 2025-07-19T10:16:03Z'
expect 0 "GetQuote JSON with its event log (carries digests)" verify-quote $A/dstack-getquote-a.json --collateral "$C4" --now 2026-03-05T00:00:00Z
has "a replays" '^ok   event log replays to the quote.s RTMR0-3 (28 events)$'
has "a report_data" '^ok   report_data is the one the quote file gives$'
has "a compose" '^note: compose hash 3763bc34552cf3a27ff71ad5f7a90471562a1a2df552dfc1998cba2d60da27e7 (measured in RTMR3)$'
expect 0 "dstack 0.6 event log (empty RTMR3 digests)" verify-quote $A/dstack-getquote-b.quote.bin --event-log $A/dstack-getquote-b.json --report-data "$(xxd -p -c 64 -s 568 -l 64 $A/dstack-getquote-b.quote.bin)"
has "b replays" '^ok   event log replays to the quote.s RTMR0-3 (29 events; 9 RTMR3 digests recomputed from their content, dstack 0.6 form)$'
has "b report_data" '^ok   report_data is the one given with --report-data'
has "b no collateral" '^note: no --collateral'
expect 1 "--report-data of another quote" verify-quote $A/dstack-getquote-b.quote.bin --report-data 1234
has "report_data mismatch" '^FAIL report_data is the one given with --report-data.*: the quote binds other data$'
expect 0 "--report-data zero-padded, as GetQuote pads" verify-quote $A/dstack-getquote-a.quote.bin --report-data 1234
printf 'services: {}\n' > "$work/compose.yaml"
expect 1 "--app-compose of another file" verify-quote $A/dstack-getquote-b.json --app-compose "$work/compose.yaml"
has "compose mismatch" '^FAIL SHA-256 of .*compose.yaml is the compose hash measured in RTMR3: the file hashes to '
expect 1 "PCK leaf not yet valid" verify-quote $A/dstack-getquote-b.json --collateral "$C4" --now 2026-03-05T00:00:00Z
has "not yet valid" '^FAIL PCK chain to the root: certificate 1 ("Intel SGX PCK Certificate") validity: not valid before 2026-04-15T00:50:58Z'
expect 1 "v5 quote: no matching TCB level" verify-quote $A/dcapqvl-tdx-v5-td15.quote.bin --collateral "$C4" --now 2026-03-05T00:00:00Z
has "v5" '^ok   quote: TDX quote v5, TD report 1.5'
# The attestation document itself is a quote file (its eventLog, reportData).
expect 0 "sim attestation as a quote file" verify-quote "$fx/attestation.json" --collateral "$fx/collateral.json" --allow-sim
has "sim compose" '^note: compose hash '
expect 1 "sim attestation without --allow-sim" verify-quote "$fx/attestation.json" --collateral "$fx/collateral.json"
has "sim root refused" 'not the pinned Intel SGX Root CA (a simulated quote: --allow-sim accepts its root)$'
# A compose file whose hash the sim measured.
expect 0 "hex quote file" verify-quote <(xxd -p $A/dcapqvl-tdx-v4.quote.bin) --collateral $A/dcapqvl-tdx-v4.collateral.json --now 1751587200
expect 1 "not a quote" verify-quote "$fx/report.json"

echo "== usage errors"
usage() { # usage NAME ARGS...
    local name=$1; shift
    "$TOYCTL" "$@" >/dev/null 2>&1; local rc=$?
    if [ $rc -eq 2 ]; then pass; else fail "usage: $name: exit $rc, expected 2"; fi
}
usage "no arguments"
usage "unknown command" frobnicate
usage "no file" verify-report
usage "two files" verify-report "$fx/report.json" "$fx/report.json"
usage "unknown option" verify-report "$fx/report.json" --frob
usage "option of another command" verify-report "$fx/report.json" --proof "$fx/consistency.json"
usage "bad --pubkey" verify-report "$fx/report.json" --pubkey xyz
usage "short --pubkey" verify-report "$fx/report.json" --pubkey "${PUB:2}"
usage "--pubkey without value" verify-report "$fx/report.json" --pubkey
usage "--pubkey twice" verify-report "$fx/report.json" --pubkey "$PUB" --pubkey "$PUB"
usage "--pubkey and --attestation" verify-report "$fx/report.json" --pubkey "$PUB" --attestation "$fx/attestation.json"
usage "--allow-sim alone" verify-report "$fx/report.json" --allow-sim
usage "--allow-sim=1" verify-report "$fx/report.json" --attestation "$fx/attestation.json" --allow-sim=1
usage "receipt without --proof" verify-receipt "$fx/receipt.json"
usage "log with one report" verify-log "$fx/old_report.json" --proof "$fx/consistency.json"
usage "two stdin inputs" verify-log - - --proof "$fx/consistency.json"
usage "verify-quote without file" verify-quote
usage "verify-quote bad --now" verify-quote $A/dstack-getquote-a.quote.bin --now yesterday
usage "verify-quote bad --report-data" verify-quote $A/dstack-getquote-a.quote.bin --report-data xyz
usage "verify-quote --nonce" verify-quote $A/dstack-getquote-a.quote.bin --nonce x
usage "verify-report --collateral without --attestation" verify-report "$fx/report.json" --collateral "$fx/collateral.json"
usage "sim-collateral without --seed" sim-collateral
usage "canonical without file" canonical
usage "canonical with two files" canonical a b
# Into a file first: grep -q stops reading at its match, and a help longer
# than a pipe's buffer would then meet a closed pipe (exit 141 under pipefail).
if "$TOYCTL" help > "$work/help" && grep -q '^usage:' "$work/help"; then pass; else fail "help"; fi

echo "== canonical"
for in in tests/data/toyctl/canon/*.in.json; do
    exp=${in%.in.json}.out.json
    if "$TOYCTL" canonical "$in" > "$work/canon" && cmp -s "$work/canon" "$exp"; then pass
    else fail "canonical $in differs from $exp"; fi
done
# Integer-only published RFC 8785 vectors (the others have floating point).
for b in cyberphone-french cyberphone-unicode cyberphone-weird rfc8785-3.2.3; do
    if "$TOYCTL" canonical "tests/data/rfc8785/$b.in.json" > "$work/canon" &&
       cmp -s "$work/canon" "tests/data/rfc8785/$b.out.json"; then pass
    else fail "canonical rfc8785/$b"; fi
done
# The fixtures are rt_ser output, already canonical: toyctl must reproduce them.
for f in "$fx"/*.json; do
    if "$TOYCTL" canonical "$f" > "$work/canon" && cmp -s "$work/canon" "$f"; then pass
    else fail "canonical $(basename "$f") is not the serializer's bytes"; fi
done
# The restrictions the help states: no top-level scalar, no U+0000 in a
# key, integers within +-(2^53-1); each refused with its reason.
for case in '5|top-level' '"a"|top-level' 'true|top-level' '{"a\u0000":1}|U+0000' \
            '{"a":9007199254740992}|2^53-1' '{"a":-9007199254740992}|2^53-1' 'null|null'; do
    doc=${case%|*} why=${case##*|}
    if printf '%s' "$doc" | "$TOYCTL" canonical - >/dev/null 2>"$work/stderr"; then
        fail "canonical accepted $doc"
    elif grep -qF "$why" "$work/stderr"; then pass
    else fail "canonical $doc: unclear message: $(cat "$work/stderr")"; fi
done
if [ "$(printf '{"a":9007199254740991,"b":-9007199254740991}' | "$TOYCTL" canonical -)" = \
     '{"a":9007199254740991,"b":-9007199254740991}' ]; then pass
else fail "canonical refused integers at +-(2^53-1)"; fi
if "$TOYCTL" canonical tests/data/rfc8785/rfc8785-3.2.2.in.json >/dev/null 2>"$work/stderr"; then
    fail "floating point accepted"
elif grep -q 'fraction or exponent' "$work/stderr"; then pass
else fail "floating point: unclear message: $(cat "$work/stderr")"; fi

# Everything else runs many toyctl processes at once, from Python.
python3 - "$TOYCTL" "$fx" "$PAYLOAD" <<'EOF'
import concurrent.futures, copy, glob, json, os, subprocess, sys, tempfile

toyctl, fx, payload = sys.argv[1], sys.argv[2], sys.argv[3]
tmp = tempfile.mkdtemp(dir=os.path.dirname(fx))
passed = failed = 0

def run(args, stdin=None):
    p = subprocess.run([toyctl] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")

def parallel(jobs):
    """jobs: list of (key, args); returns {key: (rc, out, err)}."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(4, os.cpu_count() or 4)) as ex:
        futs = {ex.submit(run, args): key for key, args in jobs}
        return {futs[f]: f.result() for f in concurrent.futures.as_completed(futs)}

# ---- malformed input: every JSONTestSuite n_ file is refused with exit 1;
# i_ and y_object files may go either way but must not crash.
jobs = [(f, ["canonical", f]) for f in sorted(glob.glob("tests/data/parse/jsonts/[niy]_*.json"))]
jobs += [(f, ["canonical", f]) for f in sorted(glob.glob("tests/data/toyctl/bad/*"))]
res = parallel(jobs)
bad = 0
for f, (rc, out, err) in sorted(res.items()):
    base = os.path.basename(f)
    must_fail = base.startswith("n_") or "/toyctl/bad/" in f
    if (must_fail and rc != 1) or rc not in (0, 1) or (rc == 1 and not err.startswith("toyctl: ")):
        bad += 1
        print(f"FAIL: canonical {f}: exit {rc} {err.strip()[:200]}")
failed += bad
passed += len(res) - bad
print(f"malformed or odd inputs: {len(res)} tried, {bad} wrong")

# ---- the documents, how each is verified, and which file is substituted.
cases = {
    "report.json": lambda f: ["verify-report", f],
    "attestation.json": lambda f: ["verify-report", f"{fx}/report.json", "--attestation", f, "--allow-sim",
                                   "--collateral", f"{fx}/collateral.json"],
    "receipt.json": lambda f: ["verify-receipt", f, "--proof", f"{fx}/receipt_proof.json", "--payload", payload],
    "receipt_proof.json": lambda f: ["verify-receipt", f"{fx}/receipt.json", "--proof", f, "--payload", payload],
    "old_report.json": lambda f: ["verify-log", f, f"{fx}/new_report.json", "--proof", f"{fx}/consistency.json"],
    "new_report.json": lambda f: ["verify-log", f"{fx}/old_report.json", f, "--proof", f"{fx}/consistency.json"],
    "consistency.json": lambda f: ["verify-log", f"{fx}/old_report.json", f"{fx}/new_report.json", "--proof", f],
}
# Values toyctl cannot check, with the reason; their value changes must
# still verify (anything else would mean the test is wrong about them).
unverifiable = {
}

HEX = "0123456789abcdef"
def is_hex(s):
    return len(s) > 0 and all(c in HEX for c in s)

def flip(s, i):
    return s[:i] + HEX[(HEX.index(s[i]) + 1) % 16] + s[i + 1:]

def leaf_changes(v):
    """(kind, new value) for a leaf value."""
    if v is None:
        return [("null->x", "x")]
    if isinstance(v, bool):
        return [("negate", not v), ("->null", None)]
    if isinstance(v, int):
        return [("+1", v + 1), ("->null", None)]
    out = [("->null", None)]
    body, pre = (v[7:], 7) if v.startswith("sha256:") else (v, 0)
    if is_hex(body):
        n = len(body)
        # Long values (the quote): a digit in every 4 bytes, so that every
        # field of its layout is hit, signed or not.
        pos = sorted({0, n - 1} | set(range(0, n, 8 if n > 128 else max(1, n // 2))))
        out += [(f"flip@{pre + i}", flip(v, pre + i)) for i in pos]
        out.append(("append", v + "0"))
    else:
        out.append(("append", v + "x"))
        if v:
            out.append(("last-char", v[:-1] + chr(ord(v[-1]) ^ 1)))
        else:
            out.append(("empty->x", "x"))
    return out

def mutations(doc):
    """(path, kind, mutated document) for every path of doc."""
    out = []
    def walk(v, path):
        if isinstance(v, dict):
            for k in v:
                walk(v[k], path + (k,))
        elif isinstance(v, list):
            for i in range(len(v)):
                walk(v[i], path + (i,))
        if path:
            out.append((path, "remove", None))
            changes = leaf_changes(v) if not isinstance(v, (dict, list)) else [("->null", None)]
            out.extend((path, kind, nv) for kind, nv in changes)
    walk(doc, ())
    res = []
    for path, kind, nv in out:
        d = copy.deepcopy(doc)
        parent = d
        for p in path[:-1]:
            parent = parent[p]
        if kind == "remove":
            del parent[path[-1]]
        else:
            parent[path[-1]] = nv
        res.append((path, kind, d))
    return res

def reformat(v, depth=0, escape_all=False):
    """The same value in another form: reversed key order, indentation, and
    optionally every string character as a \\u escape."""
    ind = "\r\n" + "\t" * (depth + 1)
    if isinstance(v, dict):
        items = [reformat(k, depth, escape_all) + " :  " + reformat(v[k], depth + 1, escape_all) for k in reversed(list(v))]
        return "{" + ind + ("," + ind).join(items) + "\n" + "  " * depth + "}" if items else "{ }"
    if isinstance(v, list):
        return "[ " + " , ".join(reformat(x, depth + 1, escape_all) for x in v) + " ]"
    if isinstance(v, str) and escape_all:
        units = v.encode("utf-16-be")
        return '"' + "".join("\\u%02x%02X" % (units[i], units[i + 1]) for i in range(0, len(units), 2)) + '"'
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=True).replace("/", "\\/")
    return json.dumps(v)

jobs, meta = [], {}
for name, cmd in cases.items():
    doc = json.load(open(f"{fx}/{name}"))
    for n, (path, kind, d) in enumerate(mutations(doc)):
        f = f"{tmp}/{name}.{n}"
        with open(f, "w") as fh:
            json.dump(d, fh)
        key = (name, n)
        meta[key] = (path, kind)
        jobs.append((key, cmd(f)))
    for n, esc in ((0, False), (1, True)):
        f = f"{tmp}/{name}.fmt{n}"
        with open(f, "w") as fh:
            fh.write(" \n" + reformat(doc, 0, esc) + "\r\n")
        key = (name, f"fmt{n}")
        meta[key] = ((), "reformat" + (" with \\u escapes" if esc else ""))
        jobs.append((key, cmd(f)))
    # A field the spec does not declare is refused even at the top level.
    f = f"{tmp}/{name}.extra"
    with open(f, "w") as fh:
        json.dump(dict(doc, extraField="x"), fh)
    meta[(name, "extra")] = (("extraField",), "add")
    jobs.append(((name, "extra"), cmd(f)))

res = parallel(jobs)
per_file = {}
for key in sorted(res, key=lambda k: (k[0], str(k[1]))):
    rc, out, err = res[key]
    name = key[0]
    path, kind = meta[key]
    st = per_file.setdefault(name, {"tampered": 0, "refused": 0, "unverifiable": 0, "reformat": 0})
    label = f"{name} {'.'.join(map(str, path)) or '(document)'} {kind}"
    last = out.rstrip("\n").split("\n")[-1] if out else ""
    if kind.startswith("reformat"):
        st["reformat"] += 1
        if rc == 0 and last.startswith("verified: all"):
            passed += 1
        else:
            failed += 1
            print(f"FAIL: {label}: exit {rc}, expected 0 (formatting must not matter)")
            print("\n".join(l for l in out.split("\n") if not l.startswith("ok")), err)
        continue
    st["tampered"] += 1
    why = unverifiable.get((name, path))
    if why and kind.startswith("flip"):
        st["unverifiable"] += 1
        if rc == 0:
            passed += 1
        else:
            failed += 1
            print(f"FAIL: {label}: exit {rc}; expected 0 ({why})")
        continue
    if rc == 1 and last.startswith("NOT verified:"):
        st["refused"] += 1
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {label}: exit {rc}, expected 1 (tampering not detected)")
        print("\n".join(l for l in out.split("\n") if not l.startswith("ok")), err[-2000:])

for name, st in sorted(per_file.items()):
    extra = f", {st['unverifiable']} hex flips of unverifiable fields verified as expected" if st["unverifiable"] else ""
    print(f"tampering {name}: {st['tampered']} tried, {st['refused']} refused{extra}; "
          f"{st['reformat']} re-formatted copies verified")
for (name, path), why in unverifiable.items():
    print(f"note: {name} {'.'.join(path)} is not checkable offline: {why}")
with open(os.path.join(os.path.dirname(fx), "py_counts"), "w") as fh:
    fh.write(f"{passed} {failed}\n")
EOF
if [ -f "$work/py_counts" ]; then
    read -r p f < "$work/py_counts"
    passed=$((passed + p)); failed=$((failed + f))
else
    fail "the Python part did not finish"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

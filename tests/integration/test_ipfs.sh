#!/usr/bin/env bash
# test_ipfs.sh — toyctl cid, car and verify-car against the npm reference
# implementations multiformats and @ipld/car (tests/integration/ipfs_oracle.mjs).
#
# Checks:
#   - cid: the CIDs of several hundred files equal what multiformats computes
#     (CID.create(1, raw.code, sha256.digest(bytes))): empty, one byte, every
#     size up to 70, sizes around the read buffer and IPFS chunk limits, 5 MiB,
#     random sizes and contents, and real files (toyctl's signed fixtures,
#     tests/data, docs, spec); one file per call, stdin, and errors;
#   - car: the CARs toyctl writes are byte for byte those @ipld/car's
#     CarWriter writes for the same roots and blocks, CarReader reads them
#     with the right roots and blocks, each block hashes to its CID, and
#     verify-car accepts them; the limits (1 MiB a block, 64 roots) refuse
#     with exit 1 and leave OUT as it was;
#   - tampering: every one-byte change and every truncation of a small CAR
#     is caught by CarReader or the oracle's check, and by toyctl verify-car;
#     a changed byte in a report's CAR fails its block's hash;
#   - verify-car reads CARs that @ipld/car wrote with other codecs, CID
#     version 0, other hash functions, repeated and missing blocks, and
#     reports each block and root as the oracle does; a CARv2 is named.
#
# Environment: TOYCTL (default build/toyctl), FIXTURES_BIN (default
# build/toyctl_fixtures).  Needs node and the npm packages of package.json
# in node_modules/ (scripts/deps.sh installs them).  The last line is
# "N passed, M failed"; the exit status is non-zero on failure.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

TOYCTL=${TOYCTL:-build/toyctl}
FIXTURES_BIN=${FIXTURES_BIN:-build/toyctl_fixtures}
ORACLE=tests/integration/ipfs_oracle.mjs
# A sanitizer report must never pass for an ordinary failure (exit 1).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=86"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}halt_on_error=1:exitcode=87:print_stacktrace=1"

work=$(mktemp -d "${TMPDIR:-/tmp}/toyapp-ipfs.XXXXXX")
trap 'rm -rf -- "$work"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); printf 'ok    %s\n' "$1"; }
fail() {
    failed=$((failed + 1))
    printf 'FAIL  %s\n' "$1"
    [[ -z ${2:-} ]] || printf '%s\n' "$2" | head -n 20 | sed 's/^/      /'
}
# check NAME CMD...: passes when CMD succeeds; $detail is shown on failure.
detail=
check() {
    local name=$1
    shift
    if "$@"; then ok "$name"; else fail "$name" "$detail"; fi
    detail=
}
finish() {
    printf '%s passed, %s failed\n' "$passed" "$failed"
    ((failed == 0))
    exit
}

[[ -x $TOYCTL ]] || { fail "$TOYCTL is built (make build/toyctl)"; finish; }
command -v node >/dev/null || { fail "node is installed (scripts/deps.sh)"; finish; }
for p in multiformats @ipld/car; do
    [[ -f node_modules/$p/package.json ]] || { fail "node_modules/$p is installed (scripts/deps.sh)"; finish; }
done
oracle() { node "$ORACLE" "$@"; }

# ---- CIDs ----------------------------------------------------------------------

f=$work/files
mkdir -p "$f"
: >"$f/empty"
printf '\000' >"$f/byte-00"
printf '\377' >"$f/byte-ff"
printf 'a' >"$f/byte-a"
printf '\n' >"$f/byte-nl"
for n in $(seq 2 70); do head -c "$n" /dev/urandom >"$f/size-$n"; done
for n in 65535 65536 65537 131072 262143 262144 262145 1048575 1048576 1048577; do
    head -c "$n" /dev/urandom >"$f/size-$n"
done
head -c $((5 << 20)) /dev/urandom >"$f/large-5MiB"
for i in $(seq 1 60); do head -c $((RANDOM * 9 % 300000)) /dev/urandom >"$f/random-$i"; done
fx=$work/fixtures
mkdir -p "$fx"
if [[ -x $FIXTURES_BIN ]] && "$FIXTURES_BIN" "$fx" >/dev/null 2>&1; then
    ok "toyctl_fixtures wrote the signed report fixtures"
else
    fail "toyctl_fixtures ($FIXTURES_BIN) writes the signed report fixtures"
fi
{
    find "$f" "$fx" -type f
    find tests/data docs spec reports -type f
} | LC_ALL=C sort >"$work/list"
nfiles=$(wc -l <"$work/list")
mapfile -t all <"$work/list"

"$TOYCTL" cid "${all[@]}" >"$work/cid.toyctl" 2>"$work/cid.err"
rc=$?
oracle cid-list "$work/list" >"$work/cid.oracle" 2>"$work/cid.oerr"
orc=$?
detail=$(cat "$work/cid.err" "$work/cid.oerr") check "toyctl cid and multiformats both run on $nfiles files" \
    test "$rc" -eq 0 -a "$orc" -eq 0 -a "$nfiles" -gt 300
detail=$(diff <(paste "$work/list" "$work/cid.toyctl") <(paste "$work/list" "$work/cid.oracle") | head) \
    check "toyctl cid equals multiformats for all $nfiles files (one line each, in order)" \
    test "$(wc -l <"$work/cid.toyctl")" -eq "$nfiles" -a -z "$(cmp "$work/cid.toyctl" "$work/cid.oracle" 2>&1)"
# The recipe of docs/auditing.md: Python's hashlib and base64 alone.
python3 -c 'import base64, hashlib, sys
for path in open(sys.argv[1]).read().split("\n")[:-1]:
    d = hashlib.sha256(open(path, "rb").read()).digest()
    print("b" + base64.b32encode(bytes([1, 0x55, 0x12, 0x20]) + d).decode().lower().rstrip("="))' \
    "$work/list" >"$work/cid.python"
check "... and equals the Python recipe of docs/auditing.md (hashlib, base64)" cmp -s "$work/cid.toyctl" "$work/cid.python"
bad=$(grep -cvE '^bafkrei[a-z2-7]{52}$' "$work/cid.toyctl")
check "every CID is 59 characters: 'b', base32, the raw sha2-256 prefix 'afkrei'" test "$bad" -eq 0
# Each file's CID names its bytes: distinct contents, distinct CIDs.
distinct_files=$(sha256sum "${all[@]}" | cut -d' ' -f1 | sort -u | wc -l)
check "distinct contents get distinct CIDs ($distinct_files)" \
    test "$(sort -u "$work/cid.toyctl" | wc -l)" -eq "$distinct_files"

mism=0
for i in $(seq 0 7 $((nfiles - 1))); do
    got=$("$TOYCTL" cid "${all[$i]}")
    [[ $got == "$(sed -n "$((i + 1))p" "$work/cid.oracle")" ]] || mism=$((mism + 1))
done
check "toyctl cid FILE, one file per call, agrees ($(((nfiles + 6) / 7)) files)" test "$mism" -eq 0
check "toyctl cid - (stdin) of 5 MiB agrees" \
    test "$("$TOYCTL" cid - <"$f/large-5MiB")" = "$(oracle cid "$f/large-5MiB")"
check "toyctl cid - of an empty stdin is the empty file's CID" \
    test "$("$TOYCTL" cid - </dev/null)" = bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku

out=$("$TOYCTL" cid "$f/byte-a" "$work/nonexistent" 2>"$work/err")
rc=$?
detail=$(cat "$work/err") check "a missing file: exit 1, named on stderr, nothing on stdout" \
    test "$rc" -eq 1 -a -z "$out" -a -n "$(grep -F "$work/nonexistent" "$work/err")"
"$TOYCTL" cid "$work" >/dev/null 2>&1
rc=$?
check "a directory: exit 1" test "$rc" -eq 1
for args in "" "- -" "--hex $f/byte-a"; do
    # shellcheck disable=SC2086 # the arguments are meant to split
    "$TOYCTL" cid $args >/dev/null 2>&1 </dev/null
    rc=$?
    check "toyctl cid $args: usage error (exit 2)" test "$rc" -eq 2
done

# ---- CARs --------------------------------------------------------------------------

c=$work/cars
mkdir -p "$c"
printf '# Report report_1\n\nA rendering, not signed.\n' >"$c/report.md"
mkdir -p "$c/many"
for i in $(seq 1 64); do printf 'file %s\n' "$i" >"$c/many/$i"; done
declare -A sets=(
    [report]="$fx/report.json $c/report.md"
    [empty]="$f/empty"
    [one-byte]="$f/byte-00"
    [sizes]="$f/byte-a $f/size-70 $f/size-65536 $f/empty"
    [repeated]="$f/byte-a $f/size-9 $f/byte-a $f/size-9"
    [one-MiB]="$f/size-1048576"
    [max-roots]="$(printf "$c/many/%s " $(seq 1 64))"
)
for name in report empty one-byte sizes repeated one-MiB max-roots; do
    read -r -a files <<<"${sets[$name]}"
    car=$c/$name.car
    "$TOYCTL" car "$car" "${files[@]}" 2>"$work/err"
    rc=$?
    oracle write "$c/$name.ref.car" "${files[@]}"
    detail=$(cat "$work/err") check "car $name: toyctl car writes it (exit 0)" test "$rc" -eq 0 -a -s "$car"
    check "car $name: byte for byte what @ipld/car's CarWriter writes ($(stat -c %s "$car" 2>/dev/null) bytes)" \
        cmp -s "$car" "$c/$name.ref.car"
    out=$(oracle read "$car" "${files[@]}" 2>&1)
    rc=$?
    detail=$out check "car $name: CarReader reads the files' CIDs as roots and their bytes as blocks, each hashing to its CID" \
        test "$rc" -eq 0
    out=$("$TOYCTL" verify-car "$car" "${files[@]}")
    rc=$?
    detail=$out check "car $name: toyctl verify-car CAR FILES passes" \
        test "$rc" -eq 0 -a -n "$(grep -E '^verified: all [0-9]+ checks passed$' <<<"$out")"
done
nroots=$(oracle read "$c/repeated.car" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["roots"]), len(d["blocks"]))')
check "the same file twice is one root and one block (repeated: 2 files, 4 arguments)" test "$nroots" = "2 2"
"$TOYCTL" car - "$fx/report.json" "$c/report.md" >"$c/stdout.car"
check "toyctl car - writes the same CAR to stdout" cmp -s "$c/stdout.car" "$c/report.car"
"$TOYCTL" car "$c/stdin.car" - "$c/report.md" <"$fx/report.json"
check "toyctl car OUT - FILE reads a file from stdin" cmp -s "$c/stdin.car" "$c/report.car"

printf 'keep me' >"$c/kept.car"
out=$("$TOYCTL" car "$c/kept.car" "$f/byte-a" "$f/size-1048577" 2>&1)
rc=$?
detail=$out check "a file over 1 MiB: exit 1, saying so, OUT unchanged, no temporary file left" \
    test "$rc" -eq 1 -a -n "$(grep -F '1 MiB' <<<"$out")" -a "$(cat "$c/kept.car")" = "keep me" \
    -a -z "$(find "$c" -name 'kept.car.tmp*')"
printf 'file 65\n' >"$c/many/65"
out=$("$TOYCTL" car "$c/kept.car" "$c"/many/* 2>&1)
rc=$?
detail=$out check "65 distinct files: exit 1 (at most 64 roots), OUT unchanged" \
    test "$rc" -eq 1 -a -n "$(grep -F 'at most 64' <<<"$out")" -a "$(cat "$c/kept.car")" = "keep me"
"$TOYCTL" car "$c/kept.car" "$work/nonexistent" 2>/dev/null
rc=$?
check "an unreadable file: exit 1, OUT unchanged" test "$rc" -eq 1 -a "$(cat "$c/kept.car")" = "keep me"
"$TOYCTL" car "$c/x.car" 2>/dev/null
rc=$?
check "toyctl car OUT without a file: usage error (exit 2)" test "$rc" -eq 2
"$TOYCTL" car "$c/x.car" - - 2>/dev/null </dev/null
rc=$?
check "toyctl car OUT - -: usage error (exit 2)" test "$rc" -eq 2
"$TOYCTL" verify-car 2>/dev/null
rc=$?
check "toyctl verify-car without a CAR: usage error (exit 2)" test "$rc" -eq 2

# ---- tampering -----------------------------------------------------------------------

# Every variant of a small CAR (each byte changed in two ways, each
# truncation, a byte added): of a JSON, a Markdown and an empty file.
t=$work/tampered
printf '{"reportId":"r1"}' >"$c/small.json"
printf '# r1\n' >"$c/small.md"
small=("$c/small.json" "$c/small.md" "$f/empty")
"$TOYCTL" car "$c/small.car" "${small[@]}"
out=$(oracle tamper "$c/small.car" "$t" "${small[@]}" 2>&1)
rc=$?
detail=$out check "CarReader or the oracle's check catches every variant of a CAR ($(head -n 1 <<<"$out"))" test "$rc" -eq 0
missed=() crashed=()
nvar=0
for v in "$t"/*.car; do
    nvar=$((nvar + 1))
    "$TOYCTL" verify-car "$v" "${small[@]}" >/dev/null 2>&1
    case $? in
        1) ;;
        0) missed+=("${v##*/}") ;;
        *) crashed+=("${v##*/}") ;;
    esac
done
detail="undetected: ${missed[*]}" check "toyctl verify-car refuses all $nvar variants (one byte changed, truncated, a byte added)" \
    test "${#missed[@]}" -eq 0 -a "$nvar" -gt 100
detail="${crashed[*]}" check "... always with exit 1, never a crash" test "${#crashed[@]}" -eq 0
# Without the files, a changed block is still caught by its hash.
python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[-1] ^= 1; open(sys.argv[2], "wb").write(b)' \
    "$c/report.car" "$c/report-flip.car"
out=$("$TOYCTL" verify-car "$c/report-flip.car")
rc=$?
detail=$out check "a block's last byte changed: verify-car CAR alone fails on that block's hash" \
    test "$rc" -eq 1 -a -n "$(grep -E '^FAIL car: block 2 bafkrei[a-z2-7]+ \([0-9]+ bytes\) hashes to its CID: its bytes have the CID bafkrei' <<<"$out")"

# ---- CARs written by @ipld/car ---------------------------------------------------------

v=$work/variety
oracle variety "$v"
check "the oracle wrote CARs of other codecs, versions and hashes" test -s "$v/manifest.json"
out=$(python3 - "$v" "$TOYCTL" <<'EOF'
import json, re, subprocess, sys
d, toyctl = sys.argv[1], sys.argv[2]
bad = []
cases = json.load(open(d + "/manifest.json"))
for case in cases:
    p = subprocess.run([toyctl, "verify-car", d + "/" + case["file"]], capture_output=True, text=True)
    lines = p.stdout.splitlines()
    if p.returncode != (0 if case["valid"] else 1):
        bad.append("%s: exit %d, expected %d" % (case["file"], p.returncode, 0 if case["valid"] else 1))
    for i, b in enumerate(case["blocks"], 1):
        want = "ok  " if b["ok"] else "FAIL"
        pat = re.compile(r"^%s car: block %d %s \(\d+ bytes?\) hashes to its CID" % (want, i, re.escape(b["cid"])))
        if not any(pat.match(l) for l in lines):
            bad.append("%s: no line '%s car: block %d %s'" % (case["file"], want, i, b["cid"]))
        if not b["checkable"] and not any("cannot check" in l and b["cid"] in l for l in lines):
            bad.append("%s: block %d is not said to be uncheckable" % (case["file"], i))
    for i, r in enumerate(case["roots"], 1):
        if r["present"]:
            ok = any(l.startswith("ok   car: root %d %s has its block" % (i, r["cid"])) for l in lines)
        else:
            ok = any(l.startswith("FAIL car: root has its block: root %d %s:" % (i, r["cid"])) for l in lines)
        if not ok:
            bad.append("%s: root %d %s not reported as %s" % (case["file"], i, r["cid"], "present" if r["present"] else "missing"))
print("%d CARs" % len(cases))
print("\n".join(bad))
sys.exit(1 if bad else 0)
EOF
)
rc=$?
detail=$out check "verify-car reports every block and root of the @ipld/car CARs as the oracle does ($(head -n 1 <<<"$out"))" test "$rc" -eq 0
out=$("$TOYCTL" verify-car "$v/repeated.car")
detail=$out check "a repeated block is noted" test -n "$(grep -E '^note: block 3 repeats block 1 ' <<<"$out")"

python3 - "$c/report.car" "$c/v2.car" <<'EOF'
import struct, sys
v1 = open(sys.argv[1], "rb").read()
pragma = bytes([0x0a, 0xa1, 0x67]) + b"version" + bytes([0x02])
open(sys.argv[2], "wb").write(pragma + bytes(16) + struct.pack("<QQQ", 51, len(v1), 0) + v1)
EOF
out=$("$TOYCTL" verify-car "$c/v2.car")
rc=$?
detail=$out check "a CARv2 file is refused and named as such" \
    test "$rc" -eq 1 -a -n "$(grep -F 'FAIL car: a CARv1 header' <<<"$out" | grep -F CARv2)"
out=$("$TOYCTL" verify-car "$work/nonexistent")
rc=$?
check "an unreadable CAR: exit 1, a FAIL line" test "$rc" -eq 1 -a -n "$(grep -F 'FAIL car is readable' <<<"$out")"
finish

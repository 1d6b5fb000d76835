#!/usr/bin/env bash
# Integration test of toyctl compose-hash against a real dstack deployment's
# app-compose.json and the event log that measured it
# (tests/data/compose/dstack-example, ORIGIN.md there).
#
# Checks: the event log's IMR 3 digests and its replay into the quote's
# RTMR3, recomputed here in Python, independently of toyctl; toyctl prints
# the measured compose-hash payload for the file; --normalized gives the
# SDKs' hash (Python json.dumps with sorted keys, compact, UTF-8, and the
# SDK's preprocessing), which differs for that file and equals the plain hash
# for a file already in that form; files dstack would not run, and bad
# invocations, are errors with a message.
#
# Env: BUILD (default build), TOYCTL (default $BUILD/toyctl).  The last line
# is "N passed, M failed"; the exit status is non-zero on any failure.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TOYCTL=${TOYCTL:-$ROOT/${BUILD:-build}/toyctl}
[[ $TOYCTL != */* || $TOYCTL == /* ]] || TOYCTL=$PWD/$TOYCTL
V=$ROOT/tests/data/compose/dstack-example
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# shellcheck source=SCRIPTDIR/lib.sh
source "$ROOT/tests/integration/lib.sh"

if command -v shellcheck >/dev/null 2>&1; then
    out=$(shellcheck -x "${BASH_SOURCE[0]}" 2>&1)
    detail=$out check "this test is shellcheck-clean" test -z "$out"
fi
[[ -x $TOYCTL ]] || { fail "toyctl is built ($TOYCTL)"; finish; }

# hash FILE [ARGS]: runs toyctl compose-hash; sets hrc, hout (stdout), herr.
hash_of() {
    hout=$("$TOYCTL" compose-hash "$@" 2>"$TMP/err")
    hrc=$?
    herr=$(cat "$TMP/err")
}

# ---- the published vector -----------------------------------------------------

# The measured value, from the event log alone; and the replay of every IMR 3
# event into the quote's RTMR3.
measured=$(python3 - "$V/report.json" <<'EOF' 2>&1
import hashlib, json, struct, sys
r = json.load(open(sys.argv[1]))
quote = bytes.fromhex(r["quote"])
assert struct.unpack("<H", quote[:2])[0] == 4, "a TDX quote v4"
events = json.loads(r["event_log"])
rtmr3 = bytes(48)
compose = []
for e in events:
    if e["imr"] != 3:
        continue
    payload = bytes.fromhex(e["event_payload"])
    d = hashlib.sha384(struct.pack("<I", e["event_type"]) + b":" + e["event"].encode() + b":" + payload)
    assert d.hexdigest() == e["digest"], "digest of event %s" % e["event"]
    rtmr3 = hashlib.sha384(rtmr3 + d.digest()).digest()
    if e["event"] == "compose-hash":
        compose.append(payload.hex())
assert rtmr3 == quote[48 + 472:48 + 520], "the replay gives the quote's RTMR3"
assert len(compose) == 1, "one compose-hash event"
print(compose[0])
EOF
)
detail=$measured check "the vector's event log replays into its quote's RTMR3, with one compose-hash event" \
    test "${#measured}" -eq 64
hash_of "$V/app-compose.json"
detail="$hout $herr" check "toyctl compose-hash prints the measured compose hash ($measured)" \
    test "$hrc" -eq 0 -a "$hout" = "$measured"
check "... which is the SHA-256 of the file's bytes" test "$hout" = "$(sha256sum <"$V/app-compose.json" | cut -c1-64)"
note=$herr
detail=$herr check "... and notes that the file is not in the deterministic form" \
    test -n "$(grep -F 'not in dstack' <<<"$herr")"
hash_of - <"$V/app-compose.json"
check "FILE - reads stdin" test "$hrc" -eq 0 -a "$hout" = "$measured"

# sdk_hash FILE [DROP...]: the SDKs' hash (Python SDK's json.dumps rule),
# after deleting the named top-level fields.
sdk_hash() {
    python3 - "$@" <<'EOF'
import hashlib, json, sys
d = json.load(open(sys.argv[1]))
for k in sys.argv[2:]:
    d.pop(k, None)
s = json.dumps(d, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
print(hashlib.sha256(s.encode("utf-8")).hexdigest())
EOF
}
want=$(sdk_hash "$V/app-compose.json")
hash_of --normalized "$V/app-compose.json"
detail=$hout check "--normalized gives the SDKs' hash of the parsed manifest" test "$hrc" -eq 0 -a "$hout" = "$want"
check "... which is not the measured one: dstack hashes the file, not a normal form" test "$hout" != "$measured"
detail=$note check "the note names that normalized hash" test -n "$(grep -F "$want" <<<"$note")"

# A file already in the deterministic form: both hashes agree, no note.
python3 -c 'import json,sys; sys.stdout.write(json.dumps(json.load(open(sys.argv[1])), sort_keys=True, separators=(",", ":"), ensure_ascii=False))' \
    "$V/app-compose.json" >"$TMP/norm.json"
hash_of "$TMP/norm.json"
plain=$hout
hash_of --normalized "$TMP/norm.json"
detail="$plain $hout $herr" check "a file in the deterministic form: plain = normalized = SDK hash, and no note" \
    test "$plain" = "$want" -a "$hout" = "$want" -a -z "$herr"

# write NAME PYTHON-EXPR: a manifest made from the vector by a Python edit
# of the dict d, written compactly (keys sorted unless the edit says not).
write() {
    python3 - "$V/app-compose.json" "$TMP/$1" "$2" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
exec(sys.argv[3])
open(sys.argv[2], "w").write(json.dumps(d, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
EOF
}

# The SDKs' preprocessing (getComposeHash(manifest, true)).
write extra.json 'd["bash_script"] = "echo hi"; d["pre_launch_script"] = ""'
hash_of --normalized "$TMP/extra.json"
want=$(sdk_hash "$TMP/extra.json" bash_script pre_launch_script)
detail=$hout check "--normalized drops bash_script of a docker-compose runner and an empty pre_launch_script" \
    test "$hrc" -eq 0 -a "$hout" = "$want"
hash_of "$TMP/extra.json"
check "... which the plain hash keeps (they are in the file)" test "$hout" = "$(sha256sum <"$TMP/extra.json" | cut -c1-64)" -a "$hout" != "$want"
write bash.json 'd["runner"] = "bash"; d["bash_script"] = "echo hi"; d["pre_launch_script"] = "set -e"'
hash_of --normalized "$TMP/bash.json"
want=$(sdk_hash "$TMP/bash.json" docker_compose_file)
detail=$hout check "--normalized drops docker_compose_file of a bash runner, keeps a non-empty pre_launch_script" \
    test "$hrc" -eq 0 -a "$hout" = "$want"
write unicode.json 'd["name"] = "caf\u00e9 \u2028 \u00a7"; d["docker_compose_file"] += "# \u00fc\u00df\n"'
hash_of --normalized "$TMP/unicode.json"
detail=$hout check "non-ASCII text is hashed as UTF-8, as the SDKs do" test "$hrc" -eq 0 -a "$hout" = "$(sdk_hash "$TMP/unicode.json")"

# ---- what dstack would not run ---------------------------------------------------

# refused NAME FILE WORDS: compose-hash exits 1 with WORDS and prints no hash.
refused() {
    hash_of "$2"
    detail="exit $hrc: $herr" check "$1" test "$hrc" -eq 1 -a -z "$hout" -a -n "$(grep -F -- "$3" <<<"$herr")"
}
refused "a docker-compose.yml is not an app-compose" "$ROOT/deploy/app/docker-compose.yml" "not valid JSON"
write nomv.json 'del d["manifest_version"]'
refused "manifest_version missing" "$TMP/nomv.json" "manifest_version is missing"
write mv3.json 'd["manifest_version"] = 3'
refused "numeric manifest_version 3 (only 1 and 2 may be numbers)" "$TMP/mv3.json" "must be 1 or 2"
write mv03.json 'd["manifest_version"] = "03"'
refused "manifest_version \"03\" (not canonical)" "$TMP/mv03.json" "canonical positive integer"
write mvs.json 'd["manifest_version"] = "3"'
hash_of "$TMP/mvs.json"
check "manifest_version \"3\" is accepted" test "$hrc" -eq 0 -a "${#hout}" -eq 64
write noname.json 'del d["name"]'
refused "name missing" "$TMP/noname.json" "name is missing"
write runner.json 'd["runner"] = "podman"'
refused "an unknown runner" "$TMP/runner.json" "runner must be"
write nofile.json 'del d["docker_compose_file"]'
refused "a docker-compose runner without docker_compose_file" "$TMP/nofile.json" "needs docker_compose_file"
write snap.json 'd["snapshotter"] = "stargz"'
refused "snapshotter with the docker-compose runner" "$TMP/snap.json" "nerdctl-compose"
write bool.json 'd["kms_enabled"] = "true"'
refused "a boolean written as a string" "$TMP/bool.json" "kms_enabled must be true or false"
write env.json 'd["allowed_envs"] = ["DB_PASSWORD", "1BAD"]'
refused "an allowed_envs entry that is not a variable name" "$TMP/env.json" "not an environment variable name"
write kp.json 'd["key_provider"] = "vault"'
refused "an unknown key_provider" "$TMP/kp.json" "key_provider must be"
printf '{"manifest_version":2,"name":"a","name":"b","runner":"bash","bash_script":""}' >"$TMP/dup.json"
refused "a duplicate key" "$TMP/dup.json" "duplicate"
printf '[1,2]' >"$TMP/array.json"
refused "a JSON array" "$TMP/array.json" "must be a JSON object"
refused "a missing file" "$TMP/nonexistent.json" "cannot open"
write unknown.json 'd["colour"] = "blue"'
hash_of "$TMP/unknown.json"
detail=$herr check "an unknown field is hashed, with a note naming it" \
    test "$hrc" -eq 0 -a "${#hout}" -eq 64 -a -n "$(grep -F 'field colour' <<<"$herr")"

"$TOYCTL" compose-hash >/dev/null 2>"$TMP/err"
rc=$?
check "no FILE: usage, exit 2" test "$rc" -eq 2 -a -n "$(grep -F usage: "$TMP/err")"
"$TOYCTL" compose-hash a.json b.json >/dev/null 2>&1
check "two FILEs: exit 2" test $? -eq 2
"$TOYCTL" compose-hash --sorted "$V/app-compose.json" >/dev/null 2>&1
check "an unknown option: exit 2" test $? -eq 2

finish

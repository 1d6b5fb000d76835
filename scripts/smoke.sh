#!/usr/bin/env bash
# Smoke test of one deployed CVM: it runs the compose hash it should, and
# (for the app) serves the version it should, with its database up.
#
#   scripts/smoke.sh ROLE --metadata URL --compose-hash HEX
#                    [--api URL --version X.Y.Z] [--timeout SECONDS]
#
# Waits (default 600 s, polling every 5 s) until METADATA/compose-hash
# answers, then checks:
#   - its composeHash is HEX: the CVM runs exactly the registered app-compose
#     (in dstack the value comes from the guest agent, which measured it);
#   - for the app role (--api): GET API/health says "ok" (primary and
#     replica up), GET API/version names X.Y.Z and the same compose hash.
# The Postgres roles' metadata sidecar starts only once their Postgres is
# healthy (the replica's health is "streaming from the primary"), so for
# them an answer already means the database is up.
#
# Prints one line per check; exit 0 when all pass, 1 when one fails or the
# CVM does not answer in time, 2 on a usage error.
set -uo pipefail

PROG=smoke.sh
usage() {
    printf 'usage: scripts/%s ROLE --metadata URL --compose-hash HEX [--api URL --version X.Y.Z] [--timeout SECONDS]\n' "$PROG" >&2
    exit 2
}
[[ $# -ge 1 && $1 != -* ]] || usage
role=$1
shift
meta='' want='' api='' version='' timeout=600
while [[ $# -gt 0 ]]; do
    [[ $# -ge 2 ]] || usage
    case $1 in
    --metadata) meta=${2%/} ;;
    --compose-hash) want=$2 ;;
    --api) api=${2%/} ;;
    --version) version=$2 ;;
    --timeout) timeout=$2 ;;
    *) usage ;;
    esac
    shift 2
done
[[ -n $meta && $want =~ ^[0-9a-f]{64}$ && $timeout =~ ^[0-9]+$ ]] || usage
[[ -z $api || -n $version ]] || usage

failed=0
say() { printf '%-5s %s: %s\n' "$1" "$role" "$2"; [[ $1 == ok ]] || failed=1; }
# get URL: the body of a 200 answer on stdout, else nothing and status 1.
get() { curl --silent --show-error --fail --max-time 10 -- "$1"; }
# field JSON NAME: one top-level string field of a JSON document.
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2], ""))' "$1" "$2" 2>/dev/null; }

deadline=$((SECONDS + timeout))
body=
until body=$(get "$meta/compose-hash" 2>/dev/null); do
    if ((SECONDS >= deadline)); then
        say FAIL "$meta/compose-hash did not answer within ${timeout}s"
        exit 1
    fi
    sleep 5
done
got=$(field "$body" composeHash)
if [[ $got == "$want" ]]; then
    say ok "runs compose hash $want"
else
    say FAIL "runs compose hash ${got:-(none)}, not the registered $want"
fi

if [[ -n $api ]]; then
    body=$(get "$api/health" 2>&1) || body=
    st=$(field "$body" status)
    if [[ $st == ok ]]; then
        say ok "/health: ok (primary $(field "$body" primary), replica $(field "$body" replica))"
    else
        say FAIL "/health: ${st:-no answer} ${body:0:200}"
    fi
    body=$(get "$api/version" 2>&1) || body=
    v=$(field "$body" version) h=$(field "$body" composeHash)
    if [[ $v == "$version" && $h == "$want" ]]; then
        say ok "/version: $v, compose hash $h"
    else
        say FAIL "/version: version ${v:-(none)} (want $version), compose hash ${h:-(none)}"
    fi
fi
exit "$failed"

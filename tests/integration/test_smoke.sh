#!/usr/bin/env bash
# The deploy workflow's smoke test (scripts/smoke.sh) against the local
# topology running the same binaries: a Postgres primary and streaming
# replica (postgres/cluster.sh), toy-mockapi, and toyapp with the sim TEE
# provider, whose TOYAPP_COMPOSE_FILE is the app role's app-compose rendered
# by scripts/app-compose.sh.
#
# Checks: the compose hash toyapp reports (/compose-hash, /version) is the
# one toyctl compose-hash computes for that file; smoke.sh passes with the
# right hash and version and fails, saying why, with a wrong hash, a wrong
# version or a CVM that does not answer; the replica's health check in
# deploy/pg-replica/docker-compose.yml, run on the local replica, says it
# streams, and on the primary it does not.
#
# Env: BUILD (default build), TOYCTL, KEEP=1 keeps the temporary directory.
# The last line is "N passed, M failed"; the exit status is non-zero on any
# failure.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=$ROOT/${BUILD:-build}
TOYCTL=${TOYCTL:-$BUILD_DIR/toyctl}
[[ $TOYCTL != */* || $TOYCTL == /* ]] || TOYCTL=$PWD/$TOYCTL
CLUSTER=$ROOT/postgres/cluster.sh
SMOKE=$ROOT/scripts/smoke.sh
TOKEN=smoke-token-$$

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
export NO_PROXY='*' no_proxy='*'

# shellcheck source=SCRIPTDIR/lib.sh
source "$ROOT/tests/integration/lib.sh"

out=$(shellcheck -x "$SMOKE" "${BASH_SOURCE[0]}" 2>&1)
detail=$out check "scripts/smoke.sh and this test are shellcheck-clean" test -z "$out"
"$SMOKE" >/dev/null 2>&1
check "smoke.sh without arguments: usage, exit 2" test $? -eq 2
"$SMOKE" app --metadata http://127.0.0.1:1 --compose-hash nothex >/dev/null 2>&1
check "smoke.sh with a compose hash that is not 64 hex digits: exit 2" test $? -eq 2
"$SMOKE" app --metadata http://127.0.0.1:1 --compose-hash "$(printf '0%.0s' {1..64})" --api http://127.0.0.1:1 >/dev/null 2>&1
check "smoke.sh with --api but no --version: exit 2" test $? -eq 2

for f in "$BUILD_DIR/toyapp" "$BUILD_DIR/toy-mockapi" "$TOYCTL" "$CLUSTER"; do
    [[ -x $f ]] || { fail "$f is built"; finish; }
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/toyapp-smoke-it.XXXXXX")
chmod 755 "$TMP" # the cluster's OS user must reach it
pids=()
cluster_up=0
# shellcheck disable=SC2317 # run through the trap
cleanup() {
    local p
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    if ((cluster_up)); then timeout 60 "$CLUSTER" stop "$TMP/pg" >/dev/null 2>&1; fi
    if [[ -n ${KEEP:-} ]]; then echo "kept $TMP"; else rm -rf -- "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

base=$(free_ports 5)
[[ $base =~ ^[0-9]+$ ]] || { fail "five free ports on 127.0.0.1"; finish; }
PG_P=$base PG_R=$((base + 1)) MOCK=$((base + 2)) API=$((base + 3)) META=$((base + 4))

if ! out=$(PG_PRIMARY_PORT=$PG_P PG_REPLICA_PORT=$PG_R timeout 180 "$CLUSTER" init "$TMP/pg" 2>&1); then
    cluster_up=1
    fail "postgres/cluster.sh init" "$out"
    finish
fi
cluster_up=1
envs=$("$CLUSTER" env "$TMP/pg")
DB=$(sed -n 's/^DATABASE_URL=//p' <<<"$envs")
DB_R=$(sed -n 's/^DATABASE_REPLICA_URL=//p' <<<"$envs")
ok "Postgres primary :$PG_P and replica :$PG_R"

# ---- the replica's health check, from the compose file ----------------------------

hc=$(python3 - "$ROOT/deploy/pg-replica/docker-compose.yml" <<'EOF'
import re, sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
test = c["services"]["postgres-replica"]["healthcheck"]["test"]
assert test[0] == "CMD-SHELL", test
m = re.search(r"-tAc '([^']+)' \| grep -qx (\w+)$", test[1])
print(m.group(1) + "\n" + m.group(2))
EOF
)
sql=$(head -n 1 <<<"$hc") want=$(tail -n 1 <<<"$hc")
check "the replica's health check is a query and the word it must print ($want)" test -n "$sql" -a "$want" = streaming
"$CLUSTER" catchup "$TMP/pg" >/dev/null 2>&1
got=$("$CLUSTER" sql "$TMP/pg" replica "$sql" 2>&1)
detail=$got check "on the local replica it prints '$want'" test "$got" = "$want"
got=$("$CLUSTER" sql "$TMP/pg" primary "$sql" 2>&1)
detail=$got check "on the primary it does not (no WAL receiver): the check would fail there" test "$got" != "$want"

# ---- toyapp with the rendered app role ---------------------------------------------

MOCK_API_TOKEN=$TOKEN "$BUILD_DIR/toy-mockapi" --port "$MOCK" --host 127.0.0.1 >"$TMP/mockapi.out" 2>&1 &
pids+=($!)
wait_listening "$!" "$TMP/mockapi.out" || { fail "toy-mockapi starts" "$(cat "$TMP/mockapi.out")"; finish; }

COMPOSE=$TMP/app.app-compose.json
"$ROOT/scripts/app-compose.sh" -o "$COMPOSE" app "TOYAPP_IMAGE=ghcr.io/example/toyapp@sha256:$(sha256sum <"$BUILD_DIR/toyapp" | cut -c1-64)"
H=$("$TOYCTL" compose-hash "$COMPOSE")
VERSION=$(tr -d '[:space:]' <"$ROOT/VERSION")
check "the app role renders and toyctl computes its compose hash" test "${#H}" -eq 64

env PORT="$API" METADATA_PORT="$META" CVM_ID=smoke DATABASE_URL="$DB" DATABASE_REPLICA_URL="$DB_R" \
    MOCK_API_URL="http://127.0.0.1:$MOCK" MOCK_API_TOKEN="$TOKEN" TEE_PROVIDER=sim TEE_SIM_SEED="$TMP/seed" \
    APP_ID=toyapp-smoke-it TOYAPP_COMPOSE_FILE="$COMPOSE" CHAIN=off "$BUILD_DIR/toyapp" >"$TMP/app.out" 2>"$TMP/app.err" &
pids+=($!)
wait_listening "$!" "$TMP/app.out" || { fail "toyapp starts" "$(cat "$TMP/app.out" "$TMP/app.err")"; finish; }
ok "toyapp listening on :$API and :$META"

field() { python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1], ""))' "$1" 2>/dev/null; }
got=$(curl -sS --max-time 5 "http://127.0.0.1:$META/compose-hash" | field composeHash)
check "GET /compose-hash (sim provider) = toyctl compose-hash of TOYAPP_COMPOSE_FILE" test "$got" = "$H"
got=$(curl -sS --max-time 5 "http://127.0.0.1:$API/version" | field composeHash)
check "GET /version names the same compose hash" test "$got" = "$H"

# The health monitor needs a moment to see both servers.
for _ in $(seq 50); do
    [[ $(curl -sS --max-time 5 "http://127.0.0.1:$API/health" | field status) == ok ]] && break
    sleep 0.1
done
out=$("$SMOKE" app --metadata "http://127.0.0.1:$META" --compose-hash "$H" --api "http://127.0.0.1:$API" \
    --version "$VERSION" --timeout 30 2>&1)
rc=$?
detail=$out check "smoke.sh passes: the registered hash, /health ok, /version $VERSION" \
    test "$rc" -eq 0 -a "$(grep -c '^ok ' <<<"$out")" -eq 3
wrong=$(printf '%s' "$H" | tr '0-9a-f' '1-9a-f0')
out=$("$SMOKE" app --metadata "http://127.0.0.1:$META" --compose-hash "$wrong" --timeout 30 2>&1)
rc=$?
detail=$out check "smoke.sh fails on another compose hash, naming both" \
    test "$rc" -eq 1 -a -n "$(grep -F "runs compose hash $H, not the registered $wrong" <<<"$out")"
out=$("$SMOKE" app --metadata "http://127.0.0.1:$META" --compose-hash "$H" --api "http://127.0.0.1:$API" \
    --version 99.0.0 --timeout 30 2>&1)
rc=$?
detail=$out check "smoke.sh fails on another version" test "$rc" -eq 1 -a -n "$(grep -F '(want 99.0.0)' <<<"$out")"
out=$("$SMOKE" pg-replica --metadata "http://127.0.0.1:1" --compose-hash "$H" --timeout 0 2>&1)
rc=$?
detail=$out check "smoke.sh fails when the CVM does not answer in time" \
    test "$rc" -eq 1 -a -n "$(grep -F 'did not answer within 0s' <<<"$out")"

finish

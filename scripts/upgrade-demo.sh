#!/usr/bin/env bash
# make upgrade-demo: the release flow of docs/upgrade.md, rehearsed on this
# machine and narrated step by step, with what an auditor checks at each.
#
#   scripts/upgrade-demo.sh [--dir DIR]
#
#   0. a Postgres primary and synchronous replica (postgres/cluster.sh), a
#      local chain with the app registry (scripts/chain.sh), toy-mockapi;
#   1. release A, this checkout as built ($BUILD/toyapp, VERSION), its
#      app-compose registered: it takes submissions and publishes a report;
#   2. release B: a copy of this checkout, bumped with scripts/bump-version.sh,
#      a setting of deploy/app/docker-compose.yml changed, toyapp built there
#      (make rebuilds only what the bump changed, from A's objects);
#   3. B's compose hash registered (toyctl register-compose); toyctl history
#      lists A -> B;
#   4. B started in A's place on the same database: /version and
#      /compose-hash change, the deploy workflow's smoke test passes, the
#      attestation measures B's app-compose, and the next report names B;
#   5. A's receipts verify with proofs fetched from B, and toyctl verify-log
#      holds from A's report to B's;
#   6. release C, bumped again and never registered, refuses to start: the
#      sim provider's KMS gate names its compose hash and how to register it.
#
# Each check prints "ok    WHAT" or "FAIL  WHAT"; the commands run are shown
# with "$ " (run from DIR) and their output indented.  The last line is
# "N passed, M failed"; the exit status is 0 when nothing failed.
# tests/integration/test_upgrade.py runs this script and checks what it
# leaves in DIR.
#
# DIR (default: a new temporary directory, removed at the end unless KEEP
# is set) must be new or empty; given, it is kept, with a/ b/ c/ (each
# release's app-compose, receipts, report, logs; b/tree and c/tree the
# copies that were built), chain/ and pg/ (stopped at the end).
# Env: BUILD (default build: relative to the repository; build/san-... for a
# sanitizer build), TOYCTL, KEEP.
# Every server listens on 127.0.0.1, on free ports; everything started here
# is stopped here.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PROG=upgrade-demo.sh
BUILD=${BUILD:-build}
BUILD_DIR=$ROOT/$BUILD
TOYCTL=${TOYCTL:-$BUILD_DIR/toyctl}
[[ $TOYCTL == /* ]] || TOYCTL=$ROOT/$TOYCTL
# The report period: a few seconds, so that B's report follows A's at once.
PERIOD=2

# shellcheck source=SCRIPTDIR/../tests/integration/lib.sh
source "$ROOT/tests/integration/lib.sh"

die() { printf '%s: %s\n' "$PROG" "$*" >&2; exit 1; }

DIR=
while [[ $# -gt 0 ]]; do
    case $1 in
    --dir) [[ $# -ge 2 ]] || die "--dir needs a directory"; DIR=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) printf 'usage: scripts/%s [--dir DIR]\n' "$PROG" >&2; exit 2 ;;
    esac
done

[[ $BUILD != /* ]] || die "BUILD=$BUILD: give it relative to the repository (build, build/san-...)"
for b in "$BUILD_DIR/toyapp" "$BUILD_DIR/toy-mockapi" "$TOYCTL" "$BUILD_DIR/libtoy.a"; do
    [[ -x $b || -f $b ]] || die "$b is missing: make $BUILD/toyapp $BUILD/toy-mockapi $BUILD/toyctl (make upgrade-demo does)"
done
for c in python3 curl psql; do
    command -v "$c" >/dev/null || die "$c is not installed (apt-get install python3 curl postgresql-client)"
done
# The sanitizer of this build, so that B and C are built the same way.
SANITIZE=
if [[ $BUILD == build/san-* ]]; then SANITIZE=${BUILD#build/san-}; SANITIZE=${SANITIZE//-/,}; fi

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
export NO_PROXY='*' no_proxy='*'

keep=${KEEP:-}
given=$DIR
if [[ -n $DIR ]]; then
    mkdir -p "$DIR" || die "cannot create $DIR"
    [[ -z $(ls -A "$DIR") ]] || die "$DIR is not empty: give a new or empty directory"
    keep=1
else
    DIR=$(mktemp -d "${TMPDIR:-/tmp}/toyapp-upgrade.XXXXXX") || die "mktemp failed"
fi
DIR=$(cd "$DIR" && pwd)
chmod 0755 "$DIR" # the cluster's OS user must reach it
cd "$DIR" || exit 1

pids=()
cluster_up=0 chain_up=0
# shellcheck disable=SC2317 # run through the trap
cleanup() {
    local p
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    if ((chain_up)); then "$ROOT/scripts/chain.sh" stop "$DIR/chain" >/dev/null 2>&1; fi
    if ((cluster_up)); then timeout 120 "$ROOT/postgres/cluster.sh" stop "$DIR/pg" >/dev/null 2>&1; fi
    if [[ -z $keep ]]; then
        cd / && rm -rf -- "$DIR"
    elif [[ -z $given ]]; then
        echo "kept $DIR" >&2
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
start_time=$SECONDS

# ---- narration ----------------------------------------------------------------

step() { printf '\n== %s\n' "$*"; }
say() { printf '   %s\n' "$*"; }
toyctl() { "$TOYCTL" "$@"; }
# shown CMD...: prints CMD as one would type it in DIR, runs it, prints its
# output indented; the output is also in $out, the status is CMD's.
shown() {
    local a line=
    for a in "$@"; do
        a=${a#"$ROOT"/}
        a=${a#"$DIR"/}
        [[ $a =~ ^[A-Za-z0-9_./:=@,+-]+$ ]] || a=${a@Q}
        line+=" $a"
    done
    printf '   $%s\n' "$line"
    out=$("$@" 2>&1)
    local rc=$?
    [[ -z $out ]] || printf '%s\n' "$out" | sed 's/^/       /'
    return "$rc"
}
# abort WHAT [DETAIL]: a failed step the rest depends on.
abort() { fail "$@"; finish; }
elapsed() { printf '%ss' $((SECONDS - start_time)); }

# ---- HTTP and JSON ---------------------------------------------------------------

# http METHOD URL OUT [BODY]: the status code; the body in OUT.
http() {
    curl -sS --max-time 10 -o "$3" -w '%{http_code}' -X "$1" ${4:+-H 'Content-Type: application/json' --data-binary "$4"} "$2" 2>/dev/null
}
# jf FILE PATH: a field of a JSON file (PATH: names joined by dots), or nothing.
jf() {
    python3 - "$1" "$2" <<'EOF' 2>/dev/null
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    v = v[k]
print("null" if v is None else v)
EOF
}
# until_ok SECONDS CMD...: runs CMD every 0.2 s until it succeeds.
until_ok() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
}
# shellcheck disable=SC2317 # run through until_ok and check
healthy() { [[ $(http GET "$API_URL/health" health.json) == 200 && $(jf health.json status) == ok ]]; }
# shellcheck disable=SC2317 # run through until_ok
sequenced() { [[ $(http GET "$API_URL/receipts/$1/proof" /dev/null) == 200 ]]; }
# Report periods start at multiples of PERIOD: wait for the next one.
next_period() { python3 -c 'import sys, time; p = int(sys.argv[1]); t = time.time(); time.sleep((int(t) // p + 1) * p - t + 0.1)' "$PERIOD"; }

# ---- releases --------------------------------------------------------------------

# copy_sources DEST: this checkout's files as they are (uncommitted changes
# included; build outputs, var/, node_modules/ and DIR not), modification
# times kept, so that make in DEST sees the objects copied beside them as
# current.
copy_sources() {
    local skip=//
    [[ $DIR != "$ROOT"/* ]] || skip=${DIR#"$ROOT"/}
    if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git -C "$ROOT" ls-files -z --cached --others --exclude-standard \
            | (cd "$ROOT" && while IFS= read -r -d '' f; do
                [[ -e $f && $f != "$skip"/* ]] && printf '%s\0' "$f"
            done) \
            | tar -C "$ROOT" --null -T - -cf - | tar -C "$1" -xf -
    else
        tar -C "$ROOT" --exclude=./build --exclude=./var --exclude=./node_modules --exclude="./$skip" -cf - . \
            | tar -C "$1" -xf -
    fi
}

# set_setting FILE NAME VALUE: changes NAME: "..." in a compose file's
# environment; fails when the file has no such setting.
set_setting() {
    grep -q "^      $2: \"" "$1" || return 1
    sed -i "s/^      $2: \"[^\"]*\"/      $2: \"$3\"/" "$1"
}

# render NAME TREE: NAME/app-compose.json (and NAME/docker-compose.yml) of
# TREE's app role, the image named by a digest; sets HASH.  There is no
# image here: the SHA-256 of NAME's toyapp binary stands in for the image
# digest, so that new code gives a new compose hash, as a new image does.
render() {
    local digest
    digest=$(sha256sum <"$1/toyapp" | cut -c1-64)
    DEPLOY_DIR=$2/deploy shown "$ROOT/scripts/app-compose.sh" -o "$1/app-compose.json" -c "$1/docker-compose.yml" \
        app "TOYAPP_IMAGE=local/toyapp@sha256:$digest" || abort "$1: scripts/app-compose.sh renders the app role" "$out"
    shown toyctl compose-hash "$1/app-compose.json" || abort "$1: toyctl compose-hash" "$out"
    HASH=$out
}

# release NAME FROM VERSION SETTING VALUE: the tree NAME/tree, copied from
# FROM (this checkout, or an earlier release's tree with its build),
# bumped to VERSION, SETTING changed in its app role's compose file, and
# toyapp built there: FROM's objects are copied beside the sources, so make
# compiles only what the bump changed (the objects that take the version).
# Leaves NAME/toyapp.
release() {
    local name=$1 from=$2 version=$3 t=$1/tree b
    mkdir -p "$t"
    if [[ $from == "$ROOT" ]]; then
        say "a copy of this checkout in $t (uncommitted changes included), with the runtime objects of $BUILD/"
        copy_sources "$t"
        mkdir -p "$t/$BUILD"
        for b in libtoy.a runtime gen; do
            [[ -e $BUILD_DIR/$b ]] && cp -a "$BUILD_DIR/$b" "$t/$BUILD/$b"
        done
    else
        say "a copy of $from, with its build, in $t"
        cp -a "$from/." "$t/"
    fi
    shown "$t/scripts/bump-version.sh" "$version" || abort "$name: scripts/bump-version.sh $version" "$out"
    local compose=$t/deploy/app/docker-compose.yml old
    old=$(sed -n "s/^      $4: \"\\([^\"]*\\)\"$/\\1/p" "$compose")
    set_setting "$compose" "$4" "$5" || abort "$name: deploy/app/docker-compose.yml has the setting $4"
    say "deploy/app/docker-compose.yml: $4 \"$old\" -> \"$5\""
    # GIT_SHA and BUILD_TIME: the commit the copy was made from (the tree
    # has no .git of its own).
    local sha btime
    sha=$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
    btime=$(git -C "$ROOT" log -1 --format=%cI 2>/dev/null || echo unknown)
    local t0=$SECONDS
    shown make --no-print-directory -C "$t" -j2 "SANITIZE=$SANITIZE" "GIT_SHA=$sha" "BUILD_TIME=$btime" "$BUILD/toyapp" \
        || abort "$name: make $BUILD/toyapp in $t" "$out"
    say "built in $((SECONDS - t0))s: $(grep -c '^  CC ' <<<"$out") files compiled, the rest reused"
    cp "$t/$BUILD/toyapp" "$name/toyapp"
    shown "$name/toyapp" --version
    detail=$out check "${name^^}'s toyapp says its version: $version" test "$out" = "toyapp $version"
}

# ---- the instances -------------------------------------------------------------

# start_app NAME COMPOSE: NAME/toyapp in the background on the API and
# metadata ports, the sim TEE provider measuring COMPOSE, until it
# listens; APP is its pid.  Returns 1 if it exits first.
start_app() {
    env PORT="$API_PORT" METADATA_PORT="$META_PORT" CVM_ID="upgrade-$1" TOYAPP_COMPOSE_FILE="$DIR/$2" \
        "$1/toyapp" >"$1/toyapp.log" 2>&1 &
    APP=$!
    pids+=("$APP")
    wait_listening "$APP" "$1/toyapp.log" 30
}
stop_app() { kill -TERM "$APP" 2>/dev/null; wait "$APP" 2>/dev/null; }

# submit NAME N: N submissions to the running instance; NAME/receipt-I.json
# and NAME/payload-I.txt (what the user keeps).  RECEIPTS lists their ids.
submit() {
    local i p st
    RECEIPTS=()
    for ((i = 1; i <= $2; i++)); do
        p="user $i of release $1: a film night, age: 2$i"
        printf '%s' "$p" >"$1/payload-$i.txt"
        st=$(http POST "$API_URL/submit-data" "$1/receipt-$i.json" "{\"userId\":\"$1-user-$i@example.com\",\"sensitivePayload\":\"$p\"}")
        [[ $st == 200 ]] || return 1
        RECEIPTS+=("$(jf "$1/receipt-$i.json" receiptId)")
    done
}

# report NAME: GET /report into NAME/report.json, the report's key checked.
report() {
    local st
    st=$(http GET "$API_URL/report" "$1/report.json")
    [[ $st == 200 ]] || abort "GET /report answers 200 (got $st)" "$(cat "$1/report.json")"
    say "GET /report: $(jf "$1/report.json" reportId), tree size $(jf "$1/report.json" treeHead.treeSize), enclaveVersion $(jf "$1/report.json" enclaveVersion), composeHash $(jf "$1/report.json" composeHash)"
    shown toyctl verify-report "$1/report.json" --pubkey "$PUB"
    detail=$out check "toyctl verify-report: ${1^^}'s report is signed by the service's key" test $? -eq 0
}

# ---- 0. the machine -------------------------------------------------------------

VA=$(tr -d '[:space:]' <"$ROOT/VERSION")
IFS=. read -r major minor _ <<<"${VA%%-*}"
VB=$major.$((minor + 1)).0
VC=$major.$((minor + 1)).1

step "0. The machine: Postgres primary + synchronous replica, a local chain with the app registry, the mock API (in $DIR)"
base=$(free_ports 8)
[[ $base =~ ^[0-9]+$ ]] || abort "eight free ports on 127.0.0.1"
PG_P=$base PG_R=$((base + 1)) CHAIN_P=$((base + 2)) MOCK=$((base + 3))
API_PORT=$((base + 4)) META_PORT=$((base + 5)) C_API=$((base + 6)) C_META=$((base + 7))
API_URL=http://127.0.0.1:$API_PORT META_URL=http://127.0.0.1:$META_PORT

cluster_up=1
PG_PRIMARY_PORT=$PG_P PG_REPLICA_PORT=$PG_R PG_WAIT_SECONDS=60 shown timeout 180 "$ROOT/postgres/cluster.sh" init pg \
    || abort "postgres/cluster.sh init: a primary and a streaming replica" "$out"
eval "$("$ROOT/postgres/cluster.sh" env pg | sed 's/^/export /')"
chain_up=1
CHAIN_PORT=$CHAIN_P BUILD=$BUILD TOYCTL=$TOYCTL shown "$ROOT/scripts/chain.sh" init "$DIR/chain" \
    || abort "scripts/chain.sh init: anvil, the deletion and app registries" "$out"
# CHAIN_RPC_URL, CHAIN_ID, the two registries, CHAIN_OPERATOR_KEY_FILE:
# every instance gets them, and so the sim provider's KMS gate is on.
eval "$("$ROOT/scripts/chain.sh" env "$DIR/chain" | sed 's/^/export /')"
export CHAIN=on
MOCK_API_TOKEN=upgrade-$$ "$BUILD_DIR/toy-mockapi" --host 127.0.0.1 --port "$MOCK" >mockapi.log 2>&1 &
pids+=("$!")
wait_listening "$!" mockapi.log || abort "toy-mockapi starts" "$(cat mockapi.log)"
# What every toyapp instance shares: the database, the seed and app id
# (hence its keys), the mock API, the chain; the compose file differs.
export DATABASE_URL DATABASE_REPLICA_URL MOCK_API_URL=http://127.0.0.1:$MOCK MOCK_API_TOKEN=upgrade-$$
export TEE_PROVIDER=sim TEE_SIM_SEED=$DIR/tee-sim.seed APP_ID=toyapp-upgrade REPORT_PERIOD_SECONDS=$PERIOD
ok "Postgres :$PG_P (primary) and :$PG_R (synchronous replica), chain :$CHAIN_P (app registry $CHAIN_APP_REGISTRY), mock API :$MOCK"

# ---- 1. release A --------------------------------------------------------------------

step "1. Release A ($VA): this checkout as built, registered, running"
say "auditor: the compose hash is the SHA-256 of the app-compose file; the registry must allow it before it gets keys"
mkdir -p a
cp "$BUILD_DIR/toyapp" a/toyapp
shown a/toyapp --version
detail=$out check "A's toyapp ($BUILD/toyapp) says the version in VERSION: $VA" test "$out" = "toyapp $VA"
render a "$ROOT"
HA=$HASH
say "the operator registers A (its compose hash, and the enclave's address for deletions):"
TOYAPP_COMPOSE_FILE=$DIR/a/app-compose.json BUILD=$BUILD TOYCTL=$TOYCTL shown "$ROOT/scripts/chain.sh" register "$DIR/chain" "$VA"
detail=$out check "A's compose hash is registered for $VA" grep -q "registered compose hash" <<<"$out"
start_app a a/app-compose.json || abort "A starts" "$(cat a/toyapp.log)"
say "A listens on $API_URL (API) and $META_URL (metadata)"
until_ok 20 healthy || fail "A: /health says ok" "$(cat health.json 2>/dev/null)"
http GET "$META_URL/info" a/info.json >/dev/null
PUB=$(jf a/info.json publicKey)
http GET "$API_URL/version" a/version.json >/dev/null
http GET "$META_URL/compose-hash" a/compose-hash.json >/dev/null
say "GET /version: $(cat a/version.json)"
check "A's /version and /compose-hash: $VA, $HA" \
    test "$(jf a/version.json version) $(jf a/version.json composeHash) $(jf a/compose-hash.json composeHash)" = "$VA $HA $HA"
submit a 3 || abort "A takes 3 submissions (POST /submit-data)" "$(cat a/receipt-*.json)"
A_RECEIPTS=("${RECEIPTS[@]}")
say "3 submissions; the users keep their receipts: ${A_RECEIPTS[*]}"
until_ok 20 sequenced "${A_RECEIPTS[2]}" || fail "A's sequencer puts the submissions in the log"
report a
check "A's report names A: enclaveVersion $VA, composeHash $HA" \
    test "$(jf a/report.json enclaveVersion) $(jf a/report.json composeHash)" = "$VA $HA"

# ---- 2. release B ---------------------------------------------------------------------

step "2. Release B ($VB): bumped, its compose file changed, built"
say "auditor: a new image digest or a changed setting gives a new compose hash; the rendered files show what changed"
mkdir -p b
release b "$ROOT" "$VB" GROUP_COMMIT_MAX 128
render b b/tree
HB=$HASH
say "what changed in the app role's compose file (rendered):"
shown diff -u a/docker-compose.yml b/docker-compose.yml
check "B's compose hash differs from A's" test "$HB" != "$HA"

# ---- 3. register B ---------------------------------------------------------------------

step "3. B is registered on the chain before it runs"
say "auditor: toyctl history lists every version and its compose hashes, in the chain's order"
shown toyctl register-compose "$HB" --version "$VB" --rpc "$CHAIN_RPC_URL" --registry "$CHAIN_APP_REGISTRY" \
    --key-file chain/operator.key
detail=$out check "toyctl register-compose: B's compose hash is allowed for $VB" test $? -eq 0
shown toyctl history --rpc "$CHAIN_RPC_URL" --registry "$CHAIN_APP_REGISTRY"
printf '%s\n' "$out" >history.txt
hist=$(awk '/^[0-9]+ /{print $3, $4, $5}' history.txt | tr '\n' ';')
detail=$out check "toyctl history lists A -> B: added $VA, then added $VB, with their compose hashes" \
    test "$hist" = "added $VA 0x$HA;added $VB 0x$HB;"

# ---- 4. B in A's place ----------------------------------------------------------------

step "4. B replaces A on the same database"
say "auditor: the running instance reports and attests B's compose hash; the first report after the upgrade names B"
stop_app
check "A stops on SIGTERM, exit status 0 (every acknowledged write was committed)" test $? -eq 0
start_app b b/app-compose.json || abort "B starts on A's ports and database" "$(cat b/toyapp.log)"
until_ok 20 healthy || fail "B: /health says ok" "$(cat health.json 2>/dev/null)"
http GET "$API_URL/version" b/version.json >/dev/null
http GET "$META_URL/compose-hash" b/compose-hash.json >/dev/null
http GET "$META_URL/info" b/info.json >/dev/null
say "GET /version: $(cat b/version.json)"
check "B's /version and /compose-hash show the change: $VA -> $VB, $HA -> $HB" \
    test "$(jf b/version.json version) $(jf b/version.json composeHash) $(jf b/compose-hash.json composeHash)" = "$VB $HB $HB"
check "B signs with A's key (keys come from the app id, not the compose hash)" test "$(jf b/info.json publicKey)" = "$PUB"
say "the deploy workflow's smoke test, and the auditor's attestation check:"
shown "$ROOT/scripts/smoke.sh" app --metadata "$META_URL" --compose-hash "$HB" --api "$API_URL" --version "$VB" --timeout 10
detail=$out check "scripts/smoke.sh: B runs the registered compose hash and version $VB" test $? -eq 0
toyctl sim-collateral --seed "$TEE_SIM_SEED" >sim-collateral.json
shown toyctl compare-instances --app "$META_URL" --expect-compose app=b/app-compose.json --collateral sim-collateral.json --allow-sim
detail=$out check "toyctl compare-instances: B's quote measures b/app-compose.json (sim root)" test $? -eq 0
submit b 2 || abort "B takes 2 submissions" "$(cat b/receipt-*.json)"
until_ok 20 sequenced "${RECEIPTS[1]}" || fail "B's sequencer puts its submissions in the log"
say "the next report period ($PERIOD s here; a UTC day in production):"
next_period
report b
check "B's report names B: enclaveVersion $VB, composeHash $HB" \
    test "$(jf b/report.json enclaveVersion) $(jf b/report.json composeHash)" = "$VB $HB"
check "B's report follows A's (previousReportId)" \
    test "$(jf b/report.json previousReportId)" = "$(jf a/report.json reportId)"

# ---- 5. A's evidence under B --------------------------------------------------------------

step "5. What A issued still verifies, with proofs from B"
say "auditor: old receipts verify against the new tree head; verify-log proves the log was extended, not rewritten"
i=0
for r in "${A_RECEIPTS[@]}"; do
    i=$((i + 1))
    http GET "$API_URL/receipts/$r/proof" "b/proof-a-$i.json" >/dev/null
    shown toyctl verify-receipt "a/receipt-$i.json" --proof "b/proof-a-$i.json" --pubkey "$PUB" --payload "$(cat "a/payload-$i.txt")"
    detail=$out check "A's receipt $r verifies against B's tree head (size $(jf "b/proof-a-$i.json" treeSize))" test $? -eq 0
done
from=$(jf a/report.json treeHead.treeSize) to=$(jf b/report.json treeHead.treeSize)
http GET "$API_URL/log/consistency?from=$from&to=$to" b/consistency.json >/dev/null
shown toyctl verify-log a/report.json b/report.json --proof b/consistency.json --pubkey "$PUB"
detail=$out check "toyctl verify-log: B's log ($to entries) extends A's ($from): nothing rewritten across the upgrade" test $? -eq 0

# ---- 6. release C, never registered -----------------------------------------------------

step "6. Release C ($VC): built, never registered"
say "auditor: a compose hash that is not in toyctl history gets no keys, so it can sign nothing"
mkdir -p c
release c b/tree "$VC" BODY_TIMEOUT_MS 5000
render c c/tree
HC=$HASH
rows=$(psql "$DATABASE_URL" -X -tAc 'SELECT count(*) FROM audit_log' 2>&1)
say "C is started beside B (ports $C_API, $C_META), as an operator would who skipped the registration:"
shown timeout 30 env PORT="$C_API" METADATA_PORT="$C_META" CVM_ID=upgrade-c TOYAPP_COMPOSE_FILE="$DIR/c/app-compose.json" c/toyapp
rc=$?
printf '%s\n' "$out" >c/refused.txt
printf '%s\n' "$rc" >c/status
check "C does not start: exit status 2 (got $rc)" test "$rc" -eq 2
detail=$out check "the sim KMS gate names C's compose hash and how to register it" \
    test -n "$(grep -F "compose hash $HC is not registered in the app registry $CHAIN_APP_REGISTRY" <<<"$out" |
        grep -F "toyctl register-compose $HC --version VERSION --rpc $CHAIN_RPC_URL --registry $CHAIN_APP_REGISTRY")"
check "C wrote nothing: the audit log still has $rows rows" \
    test "$(psql "$DATABASE_URL" -X -tAc 'SELECT count(*) FROM audit_log' 2>&1)" = "$rows"
check "B still serves" healthy

step "Done in $(elapsed): A ($VA) -> B ($VB) on one database and one log; C ($VC) refused"
stop_app
finish

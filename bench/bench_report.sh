#!/usr/bin/env bash
# shellcheck disable=SC2317 # cleanup is reached through trap
# Cost of GET /report against the size of the audit log.
#
# On 127.0.0.1 only and in a temporary directory: a Postgres primary and
# replica (postgres/cluster.sh) and toyapp (TEE_PROVIDER=sim,
# REPORT_PERIOD_SECONDS=1, so that every call made in a new second generates
# a new report).  First the reference: GET /report on an empty log.  Then
# bench/bench_report (built here) fills the log straight in Postgres with
# REPORT_ENTRIES sequenced entries, their frontier and a tree head signed
# with toyapp's own key, and the same calls are timed again.  Prints the
# latencies, toyapp's RSS and the check of the full-log report against the
# root computed by the fill, then removes everything.
# See bench/README.md ("Report cost") for what each figure means.
#
# Usage: BUILD=build bench/bench_report.sh     (after make build/libtoy.a build/toyapp)
# Environment:
#   BUILD           directory holding toyapp and libtoy.a (default build)
#   REPORT_ENTRIES  entries in the full log (default 10000000)
#   REPORT_CALLS    generating GET /report calls per log size (default 10)
#   BENCH_KEEP=1    keep the temporary directory (logs, reports, plans)
# Exit status: 0 when every call succeeded and every check passed (targets
# met or not), 1 when a call or a check failed, 2 on a setup failure.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
N=${REPORT_ENTRIES:-10000000}
CALLS=${REPORT_CALLS:-10}
FULL_SIZE=10000000
APP_ID=toyapp

# Targets (printed next to the measurements).
T_REPORT_MS=10
T_RSS_SLACK_MB=2    # "unchanged": the full-log RSS within this of the empty-log RSS

say() { printf 'bench: %s\n' "$*" >&2; }
die() {
    printf 'bench: ERROR: %s\n' "$*" >&2
    exit 2
}

for v in N CALLS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v=${!v} is not a positive integer"
done
((CALLS >= 2)) || die "REPORT_CALLS must be at least 2"

command -v psql >/dev/null || die "psql is not installed (apt-get install postgresql)"
command -v curl >/dev/null || die "curl is not installed"
command -v python3 >/dev/null || die "python3 is needed to find free ports and read the reports"
pkg-config --exists libpq json-c nettle libcrypto libssl libsecp256k1 \
    || die "development files missing (libpq-dev, libjson-c-dev, nettle-dev, libssl-dev, libsecp256k1-dev)"

wait_binary() {
    local f=$1 i
    for ((i = 0; i < 120; i++)); do
        [[ -f $f ]] && return 0
        sleep 0.5
    done
    die "$f is missing (run: make $BUILD/libtoy.a $BUILD/toyapp)"
}
wait_binary "$BUILD/toyapp"
wait_binary "$BUILD/libtoy.a"

# ---- temporary directory and cleanup -------------------------------------------

TMP=$(mktemp -d /tmp/toyapp-report.XXXXXX)
chmod 755 "$TMP"
TOYAPP_PID=
CLUSTER_UP=0

cleanup() {
    local rc=$? i
    trap - EXIT INT TERM
    if [[ -n $TOYAPP_PID ]]; then
        kill -TERM "$TOYAPP_PID" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            kill -0 "$TOYAPP_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$TOYAPP_PID" 2>/dev/null || true
        wait "$TOYAPP_PID" 2>/dev/null || true
    fi
    if ((CLUSTER_UP)); then
        timeout 120 "$ROOT/postgres/cluster.sh" stop "$TMP/pg" >/dev/null 2>&1 \
            || say "warning: cluster.sh stop failed (data in $TMP/pg)"
    fi
    if [[ ${BENCH_KEEP:-0} == 1 ]]; then
        say "kept $TMP"
    else
        rm -rf "$TMP"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir "$TMP/bin"
cp "$BUILD/toyapp" "$TMP/bin/" || die "could not copy toyapp"
say "building bench_report"
# shellcheck disable=SC2046 # pkg-config output is a list of words
(cd "$ROOT" && cc -std=c11 -O2 -D_GNU_SOURCE -Iruntime -Igen bench/bench_report.c "$BUILD/libtoy.a" \
    $(pkg-config --cflags --libs libpq json-c nettle libcrypto libssl libsecp256k1) -lm -o "$TMP/bench_report") \
    || die "could not build bench_report"

# ---- ports and Postgres ---------------------------------------------------------------

# A run of N consecutive free ports on 127.0.0.1, below the ephemeral range
# (32768 and up), where libpq's and curl's client sockets take theirs.
free_block() {
    python3 - "$1" <<'EOF'
import os, socket, sys
n = int(sys.argv[1])
for attempt in range(500):
    base = 20000 + (os.getpid() * 17 + attempt * 43) % (32768 - 20000 - n)
    socks = []
    try:
        for i in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", base + i))
            socks.append(s)
        print(base)
        sys.exit(0)
    except OSError:
        pass
    finally:
        for s in socks:
            s.close()
sys.exit(1)
EOF
}
BASE=$(free_block 4) || die "no free block of ports below 32768"
PG_P=$BASE PG_R=$((BASE + 1)) API=$((BASE + 2)) META=$((BASE + 3))

say "starting Postgres primary :$PG_P and replica :$PG_R in $TMP/pg"
CLUSTER_UP=1
PG_PRIMARY_PORT=$PG_P PG_REPLICA_PORT=$PG_R timeout 180 "$ROOT/postgres/cluster.sh" init "$TMP/pg" \
    >"$TMP/cluster.log" 2>&1 || {
    tail -n 20 "$TMP/cluster.log" >&2
    die "postgres/cluster.sh init failed"
}
ENVS=$("$ROOT/postgres/cluster.sh" env "$TMP/pg") || die "postgres/cluster.sh env failed"
DB=$(sed -n 's/^DATABASE_URL=//p' <<<"$ENVS")
DB_R=$(sed -n 's/^DATABASE_REPLICA_URL=//p' <<<"$ENVS")
[[ -n $DB && -n $DB_R ]] || die "postgres/cluster.sh env printed no URLs"

q() { timeout 1800 psql "$DB" -X -q -v ON_ERROR_STOP=1 -tA "$@"; }

# pg_super NODE SQL: SQL as the database superuser on primary or replica.
pg_super() { timeout 600 "$ROOT/postgres/cluster.sh" sql "$TMP/pg" "$@"; }

# Waits (10 minutes at most) until the replica has replayed all the primary's WAL.
wait_replica() {
    PG_WAIT_SECONDS=600 "$ROOT/postgres/cluster.sh" catchup "$TMP/pg" >/dev/null 2>&1 \
        || say "warning: the replica has not caught up after 10 minutes"
}

# Before measuring: the replica caught up and a checkpoint on both nodes, so
# that neither replays nor writes out the previous step meanwhile.
settle() {
    wait_replica
    pg_super primary CHECKPOINT >/dev/null || say "warning: CHECKPOINT on the primary failed"
    pg_super replica CHECKPOINT >/dev/null || say "warning: CHECKPOINT on the replica failed"
    sleep 1
}

# ---- toyapp ------------------------------------------------------------------------

start_toyapp() {  # start_toyapp LOGNAME
    local log=$TMP/toyapp-$1.log i
    env PORT="$API" METADATA_PORT="$META" HOST=127.0.0.1 CVM_ID=bench APP_ID="$APP_ID" \
        DATABASE_URL="$DB" TEE_PROVIDER=sim TEE_SIM_SEED="$TMP/seed" REPORT_PERIOD_SECONDS=1 CHAIN=off \
        "$TMP/bin/toyapp" >"$log" 2>&1 &
    TOYAPP_PID=$!
    for ((i = 0; i < 300; i++)); do
        grep -q listening "$log" 2>/dev/null && return 0
        kill -0 "$TOYAPP_PID" 2>/dev/null || break
        sleep 0.1
    done
    tail -n 20 "$log" >&2 || true
    die "toyapp did not start (log above)"
}

stop_toyapp() {
    local i
    kill -TERM "$TOYAPP_PID" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "$TOYAPP_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$TOYAPP_PID" 2>/dev/null && die "toyapp did not stop within 10 s of SIGTERM"
    wait "$TOYAPP_PID" 2>/dev/null || true
    TOYAPP_PID=
}

status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# CPU ticks of toyapp and of the primary's processes (the postmaster's children).
app_ticks() { local st; st=$(cat "/proc/$TOYAPP_PID/stat"); st=${st##*) }; awk '{ print $12 + $13 }' <<<"$st"; }
pg_ticks() {
    local pm total=0 st pid ppid
    pm=$(head -n 1 "$TMP/pg/primary/postmaster.pid")
    for st in /proc/[0-9]*/stat; do
        st=$(cat "$st" 2>/dev/null) || continue
        pid=${st%% *}
        st=${st##*) }
        ppid=$(awk '{ print $2 }' <<<"$st")
        if [[ $pid == "$pm" || $ppid == "$pm" ]]; then
            total=$((total + $(awk '{ print $12 + $13 }' <<<"$st")))
        fi
    done
    echo "$total"
}
TICKS=$(getconf CLK_TCK)

# idle_cpu: CPU of toyapp and of the primary over 5 s with no request, in %
# of one core ("APP PG"): what the service costs at rest on this log.
idle_cpu() {
    local a0 p0 a1 p1
    a0=$(app_ticks) p0=$(pg_ticks)
    sleep 5
    a1=$(app_ticks) p1=$(pg_ticks)
    awk -v a=$((a1 - a0)) -v p=$((p1 - p0)) -v t="$TICKS" 'BEGIN { printf "%.0f %.0f", 100 * a / t / 5, 100 * p / t / 5 }'
}

# Share of the machine's cores left idle over the next 2 s, in %: other work
# on the machine shows up as jitter in the latencies.
idle_now() {
    local a b
    a=$(awk '/^cpu / { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8; exit }' /proc/stat)
    sleep 2
    b=$(awk '/^cpu / { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8; exit }' /proc/stat)
    awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ")
        printf "%.0f", 100 * (y[1] - x[1]) / (y[2] - x[2]) }'
}

# Sleeps until 150 ms into the next second: the next call is in a new period.
next_period() {
    sleep "$(date +%s.%N | awk '{ s = int($1); printf "%.3f", s + 1.15 - $1 }')"
}

ERRORS=0
fail() {
    ERRORS=1
    say "!!! $*"
}

# measure PHASE: CALLS generating GET /report calls (each in a new period),
# then CALLS GET /log/head; latencies in ms into $TMP/PHASE-report.ms and
# $TMP/PHASE-head.ms, bodies into $TMP/PHASE-report-K.json.
measure() {
    local phase=$1 k out line code secs
    : >"$TMP/$phase-report.ms"
    : >"$TMP/$phase-head.ms"
    for ((k = 1; k <= CALLS; k++)); do
        next_period
        out=$TMP/$phase-report-$k.json
        line=$(curl -sS -o "$out" --max-time 60 -w '%{http_code} %{time_total}' "http://127.0.0.1:$API/report") \
            || line="000 0"
        code=${line% *} secs=${line#* }
        [[ $code == 200 ]] || fail "$phase: GET /report answered $code: $(head -c 300 "$out" 2>/dev/null)"
        awk -v s="$secs" 'BEGIN { printf "%.3f\n", s * 1000 }' >>"$TMP/$phase-report.ms"
    done
    for ((k = 1; k <= CALLS; k++)); do
        out=$TMP/$phase-head-$k.json
        line=$(curl -sS -o "$out" --max-time 60 -w '%{http_code} %{time_total}' "http://127.0.0.1:$API/log/head") \
            || line="000 0"
        code=${line% *} secs=${line#* }
        [[ $code == 200 ]] || fail "$phase: GET /log/head answered $code: $(head -c 300 "$out" 2>/dev/null)"
        awk -v s="$secs" 'BEGIN { printf "%.3f\n", s * 1000 }' >>"$TMP/$phase-head.ms"
    done
}

# stats FILE: "P50 MIN MAX MEAN" of the ms values in FILE (p50: nearest rank).
stats() {
    sort -n "$1" | awk '{ v[NR] = $1; s += $1 } END { i = int((NR + 1) / 2)
        printf "%.2f %.2f %.2f %.2f", v[i], v[1], v[NR], s / NR }'
}

# check_reports PHASE N ROOT: every report distinct (each call generated one),
# signed by the same key as its tree head; the first one over exactly N
# entries with digest sha256:ROOT (when ROOT is given).
check_reports() {
    python3 - "$TMP" "$1" "$CALLS" "$2" "${3:-}" <<'EOF'
import json, sys
tmp, phase, calls, n, root = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
errs, ids, first = [], [], None
for k in range(1, calls + 1):
    try:
        r = json.load(open(f"{tmp}/{phase}-report-{k}.json"))
    except Exception as e:
        errs.append(f"report {k}: not JSON ({e})"); continue
    ids.append(r.get("reportId"))
    th = r.get("treeHead", {})
    if r.get("publicKey") != th.get("publicKey"):
        errs.append(f"report {k}: signed by another key than its tree head")
    if th.get("treeSize", -1) < n:
        errs.append(f"report {k}: treeSize {th.get('treeSize')} < {n}")
    if r.get("summary", {}).get("auditLogDigest") != "sha256:" + th.get("root", ""):
        errs.append(f"report {k}: auditLogDigest is not its tree head's root")
    if k == 1:
        first = r
if len(set(ids)) != len(ids):
    errs.append(f"report ids repeat (a call was served a stored report): {ids}")
if root and not first:
    errs.append("no first report to check against the fill's root")
if root and first:
    if first["treeHead"]["treeSize"] != n:
        errs.append(f"first report: treeSize {first['treeHead']['treeSize']} != {n}")
    if first["summary"]["auditLogDigest"] != "sha256:" + root:
        errs.append(f"first report: auditLogDigest {first['summary']['auditLogDigest']} != sha256:{root}")
    if first["summary"]["totalUsersProcessed"] != n:
        errs.append(f"first report: totalUsersProcessed {first['summary']['totalUsersProcessed']} != {n}")
for e in errs:
    print(e)
print(f"{len(ids)} reports, {len(set(ids))} distinct ids, first {first['reportId']} over treeSize "
      f"{first['treeHead']['treeSize']}, last over {r['treeHead']['treeSize']}" if first else "no first report")
sys.exit(1 if errs else 0)
EOF
}

# ---- schema -------------------------------------------------------------------------

say "toyapp once, for its migrations"
start_toyapp migrate
stop_toyapp

# ---- reference: the empty log --------------------------------------------------------

settle
say "reference: $CALLS GET /report on the empty log"
start_toyapp empty
sleep 1
# The reader's first request opens its connection: not part of a report's cost.
curl -s -o /dev/null --max-time 60 "http://127.0.0.1:$API/log/head" || true
read -r EMPTY_APPCPU EMPTY_PGCPU <<<"$(idle_cpu)"
EMPTY_IDLE=$(idle_now)
measure empty
EMPTY_RSS=$(status_kb "$TOYAPP_PID" VmRSS)
EMPTY_HWM=$(status_kb "$TOYAPP_PID" VmHWM)
stop_toyapp
EMPTY_CHECK=$(check_reports empty 0) || fail "empty log: $EMPTY_CHECK"
EMPTY_LOG=$(q -c "SELECT count(*) FROM audit_log")

# The fill needs an empty log: remove what the reference calls added.
q <<'EOF' || die "emptying the log failed"
BEGIN;
TRUNCATE audit_log, log_queue, log_segments, reports, tree_heads, tree_nodes, batches RESTART IDENTITY;
UPDATE tree_state SET tree_size = 0, frontier = ''::bytea WHERE id = 1;
UPDATE counters SET value = 0;
COMMIT;
EOF

# The statements make_report (src/toyapp/logread.c) runs, and the sequencer's
# poll, as planned on the full log: execution time of each (in a transaction
# rolled back, so the INSERT leaves nothing).
explain() {  # explain NAME SQL
    local ms plan
    plan=$(printf 'BEGIN;\nEXPLAIN (ANALYZE, BUFFERS) %s;\nROLLBACK;\n' "$2" | q 2>&1) || plan="failed: $plan"
    printf '== %s\n%s\n\n' "$1" "$plan" >>"$TMP/plans.txt"
    ms=$(sed -n 's/.*Execution Time: \([0-9.]*\) ms.*/\1/p' <<<"$plan")
    printf '  %-46s %9s ms  %s\n' "$1" "${ms:-?}" "$(nodes <<<"$plan")"
}
# nodes: the plan's node names, outermost first, joined by " > ".
nodes() {
    awk '/^Planning/ { exit } NR == 1 || /->/ { sub(/  \(cost=.*/, ""); sub(/^ *(-> *)?/, "")
        o = o (o == "" ? "" : " > ") $0 } END { print o }'
}

# ---- fill ---------------------------------------------------------------------------

settle
say "filling the log with $N entries (COPY, one transaction)"
T0=$(date +%s.%N)
FILL=$("$TMP/bench_report" fill "$DB" "$N" "$TMP/seed" "$APP_ID" "$TMP/frontier") || die "the fill failed"
T1=$(date +%s.%N)
kv() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$FILL"; }
ROOT_HEX=$(kv root)
FILL_S=$(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.1f", b - a }')
COPY_S=$(kv copy_s) COMMIT_S=$(kv commit_s) FILL_RATE=$(kv rows_per_s)
say "filled in $FILL_S s ($FILL_RATE rows/s); VACUUM (ANALYZE) audit_log, as autovacuum would after such an insert"
# The sequencer's poll before the table has statistics (as until autovacuum
# first analyzes it after a bulk insert).
PLANS_PRE=$(explain "sequencer: unsequenced entries, before ANALYZE" \
    "SELECT id, audit_ids, leaf_hashes FROM log_queue ORDER BY id LIMIT 16")
T0=$SECONDS
q -c "VACUUM (ANALYZE) audit_log, log_segments" || die "VACUUM failed"
VACUUM_S=$((SECONDS - T0))
T0=$SECONDS
settle
SETTLE_S=$((SECONDS - T0))
LOG_BYTES=$(q -c "SELECT pg_total_relation_size('audit_log')")

# ---- the full log --------------------------------------------------------------------

say "full log: $CALLS GET /report on $N entries"
start_toyapp full
for ((i = 0; i < 300; i++)); do
    [[ $(q -c "SELECT NOT EXISTS (SELECT 1 FROM log_queue)") == t ]] && break
    sleep 0.1
done
sleep 1
FIRST_HEAD=$(curl -sS --max-time 60 "http://127.0.0.1:$API/log/head" || true)
read -r FULL_APPCPU FULL_PGCPU <<<"$(idle_cpu)"
FULL_IDLE=$(idle_now)
measure full
FULL_RSS=$(status_kb "$TOYAPP_PID" VmRSS)
FULL_HWM=$(status_kb "$TOYAPP_PID" VmHWM)
sleep 1   # the sequencer puts the last report_generated entry into the log
stop_toyapp
FULL_CHECK=$(check_reports full "$N" "$ROOT_HEX") || fail "full log: $FULL_CHECK"
python3 -c 'import json, sys; h = json.loads(sys.argv[1]); sys.exit(h["treeSize"] != int(sys.argv[2]) or h["root"] != sys.argv[3])' \
    "$FIRST_HEAD" "$N" "$ROOT_HEX" || fail "GET /log/head before any report was not the filled head: $FIRST_HEAD"
VERIFY=$("$TMP/bench_report" verify "$DB" "$N" "$TMP/frontier" "$TMP/seed" "$APP_ID" 2>&1) \
    || fail "the tree heads toyapp signed after the fill do not verify: $VERIFY"

PLANS=$(
    explain "report: find this period's report" "SELECT report_json FROM reports WHERE report_id = 'report_x'"
    explain "report: previous report" "SELECT report_id, time_window_end, tree_size FROM reports ORDER BY time_window_end DESC LIMIT 1"
    explain "report: counters" "SELECT name, value FROM counters"
    explain "report: first audit entry" "SELECT created_at FROM audit_log ORDER BY id LIMIT 1"
    explain "report and /log/head: latest tree head" "SELECT head FROM tree_heads ORDER BY tree_size DESC LIMIT 1"
    explain "report: insert entry and report" "WITH a AS (INSERT INTO audit_log (action, entry, leaf_hash) VALUES ('report_generated', '\\x00', '\\x00') RETURNING id, leaf_hash), q AS (INSERT INTO log_queue (batch_id, audit_ids, leaf_hashes) SELECT 0, string_agg(int8send(id), ''::bytea ORDER BY id), string_agg(leaf_hash, ''::bytea ORDER BY id) FROM a HAVING count(*) > 0) INSERT INTO reports (report_id, time_window_start, time_window_end, tree_size, users_processed, safe_api_calls, signups, deletions, report_json) VALUES ('report_x', now(), now(), 0, 0, 0, 0, 0, '\\x00')"
    explain "sequencer: pending entries (every 100 ms)" "SELECT id, audit_ids, leaf_hashes FROM log_queue ORDER BY id LIMIT 16"
)

# ---- results -------------------------------------------------------------------------

read -r E50 EMIN EMAX EMEAN <<<"$(stats "$TMP/empty-report.ms")"
read -r F50 FMIN FMAX FMEAN <<<"$(stats "$TMP/full-report.ms")"
tail -n +2 "$TMP/empty-report.ms" >"$TMP/empty-report-warm.ms"
tail -n +2 "$TMP/full-report.ms" >"$TMP/full-report-warm.ms"
read -r _ _ EWMAX _ <<<"$(stats "$TMP/empty-report-warm.ms")"
read -r _ _ FWMAX _ <<<"$(stats "$TMP/full-report-warm.ms")"
read -r EH50 _ EHMAX _ <<<"$(stats "$TMP/empty-head.ms")"
read -r FH50 _ FHMAX _ <<<"$(stats "$TMP/full-head.ms")"
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
fmt() { LC_ALL=C awk -v x="$1" 'BEGIN { s = sprintf("%.0f", x); o = ""
    while (length(s) > 3) { o = "," substr(s, length(s) - 2) o; s = substr(s, 1, length(s) - 3) }
    print s o }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
verdict() { if "$@"; then echo "met"; else echo "MISSED"; fi; }
RATIO=$(awk -v a="$F50" -v b="$E50" 'BEGIN { printf "%.2f", a / b }')
RSS_DELTA=$(awk -v a="$FULL_RSS" -v b="$EMPTY_RSS" 'BEGIN { printf "%+.1f", (a - b) / 1024 }')
V_P50=$(verdict le "$F50" $T_REPORT_MS)
V_MAX=$(verdict le "$FMAX" $T_REPORT_MS)
V_RSS=$(verdict awk -v d="$RSS_DELTA" -v s=$T_RSS_SLACK_MB 'BEGIN { exit !(d <= s) }')

{
    echo
    echo "toyapp GET /report against the log size, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores"
    if ((N != FULL_SIZE)); then
        echo
        echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
        echo "!!! THE FULL LOG HAS $(fmt "$N") ENTRIES, NOT $(fmt $FULL_SIZE) (REPORT_ENTRIES=$N)."
        echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
    fi
    echo
    echo "fill: $(fmt "$N") entries in $FILL_S s ($(fmt "$FILL_RATE") rows/s; COPY ${COPY_S} s, tree state, head and commit ${COMMIT_S} s);"
    echo "      then VACUUM (ANALYZE) $VACUUM_S s, replica catch-up and checkpoints $SETTLE_S s;"
    echo "      audit_log with its indexes: $(mb $((LOG_BYTES / 1024))) MB"
    echo
    printf '%-28s %12s %12s %8s\n' "" "empty log" "full log" "ratio"
    printf '%-28s %12s %12s\n' "audit entries" "0" "$(fmt "$N")"
    printf '%-28s %12s %12s %8s   target <= %s ms: %s\n' "GET /report p50, ms" "$E50" "$F50" "$RATIO" $T_REPORT_MS "$V_P50"
    printf '%-28s %12s %12s %8s   target <= %s ms: %s\n' "GET /report max, ms" "$EMAX" "$FMAX" "" $T_REPORT_MS "$V_MAX"
    printf '%-28s %12s %12s\n' "GET /report max, 2nd call on" "$EWMAX" "$FWMAX"
    printf '%-28s %12s %12s\n' "GET /report min, ms" "$EMIN" "$FMIN"
    printf '%-28s %12s %12s\n' "GET /report mean, ms" "$EMEAN" "$FMEAN"
    printf '%-28s %12s %12s\n' "GET /log/head p50, ms" "$EH50" "$FH50"
    printf '%-28s %12s %12s\n' "GET /log/head max, ms" "$EHMAX" "$FHMAX"
    printf '%-28s %12s %12s %8s   target: unchanged (within %s MB): %s\n' "toyapp VmRSS after, MB" "$(mb "$EMPTY_RSS")" \
        "$(mb "$FULL_RSS")" "$RSS_DELTA" $T_RSS_SLACK_MB "$V_RSS"
    printf '%-28s %12s %12s\n' "toyapp VmHWM (peak), MB" "$(mb "$EMPTY_HWM")" "$(mb "$FULL_HWM")"
    printf '%-28s %12s %12s\n' "idle CPU toyapp, % core" "$EMPTY_APPCPU" "$FULL_APPCPU"
    printf '%-28s %12s %12s\n' "idle CPU Postgres, % core" "$EMPTY_PGCPU" "$FULL_PGCPU"
    printf '%-28s %12s %12s\n' "machine idle before, %" "$EMPTY_IDLE" "$FULL_IDLE"
    echo
    echo "Each GET /report was made in a new 1 s period, so each one generated and signed a"
    echo "new report (curl time_total, a new connection per call); GET /log/head $CALLS times after."
    echo "The first call after a start is the reader connection's first report: its statements are"
    echo "planned, and their tables' catalog entries loaded, for the first time (hence the second max row)."
    if ((EMPTY_IDLE < 80 || FULL_IDLE < 80)); then
        echo "WARNING: the machine was busy with other work before the calls (idle < 80%): its"
        echo "         cores and disk were shared, and the max latencies show it."
    fi
    echo "The calls themselves add one report_generated entry each ($EMPTY_LOG on the empty log at the end)."
    echo "GET /report samples, ms: empty: $(paste -sd' ' "$TMP/empty-report.ms")"
    echo "                         full:  $(paste -sd' ' "$TMP/full-report.ms")"
    echo "checks, empty log: ${EMPTY_CHECK//$'\n'/; }"
    echo "checks, full log:  ${FULL_CHECK//$'\n'/; }"
    echo "  first full-log report: treeSize == $(fmt "$N") and auditLogDigest == sha256:$ROOT_HEX (the fill's root)"
    echo "  tree heads toyapp signed after the fill: ${VERIFY} (roots extend the filled frontier, signatures verify)"
    echo
    echo "statements on the full log (EXPLAIN ANALYZE: execution time, plan nodes):"
    echo "$PLANS"
    echo "$PLANS_PRE"
    if ((ERRORS)); then
        echo
        echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
        echo "!!! THIS RUN HAD ERRORS (failed calls or checks, messages above): the"
        echo "!!! figures do not measure a working service.  BENCH_KEEP=1 keeps the logs."
        echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
    fi
}

exit $((ERRORS ? 1 : 0))

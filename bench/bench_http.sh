#!/usr/bin/env bash
# shellcheck disable=SC2317 # cleanup and helpers are reached through trap and verdict
# HTTP benchmark of toyapp against the machine's libwebsockets reference.
#
# Starts, on 127.0.0.1 only and in a temporary directory: a Postgres primary
# and replica (postgres/cluster.sh), toy-mockapi, toyapp (TEE_PROVIDER=sim)
# and bench/ref_lws (built here).  Then runs wrk against each scenario,
# samples toyapp's RSS meanwhile, loads a million signups straight into the
# database and measures signup again, prints a table, and removes everything.
# See bench/README.md for what each figure means.
#
# Usage: BUILD=build bench/bench_http.sh      (after `make all`)
# Environment:
#   BUILD          directory holding toyapp and toy-mockapi (default build)
#   BENCH_SECONDS  duration of each wrk run (default 10)
#   BENCH_THREADS  wrk threads (default 2);  BENCH_CONNECTIONS (default 64)
#   BENCH_AUTOVACUUM=on  leave Postgres autovacuum on during the runs
#                  (default off, with a VACUUM (ANALYZE) between runs)
#   BENCH_KEEP=1   keep the temporary directory (logs, wrk outputs)
#   BENCH_WS_CLIENTS  WebSocket clients of the live-feed run (default 1000)
#   BENCH_WS_MODE  what they ask for: latest (default, a dashboard's), all, none
# Exit status: 0 when every run completed without errors (targets missed or
# not), 1 when a run had non-2xx responses or socket errors, 2 on a setup
# failure.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
SECS=${BENCH_SECONDS:-10}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNECTIONS:-64}
MILLION=1000000
AUTOVACUUM=${BENCH_AUTOVACUUM:-off}
WS_CLIENTS=${BENCH_WS_CLIENTS:-1000}
WS_MODE=${BENCH_WS_MODE:-latest}

# Targets (reference values printed next to the measurements).
T_SUBMIT_RPS=15000
T_SUBMIT_P99_MS=20
T_SIGNUP_RPS=15000
T_HEALTH_RPS=40000
T_RSS_MB=50
T_SIGNUP_KEEP=0.80
T_WS_KEEP=0.90
T_WS_P99_MS=50

say() { printf 'bench: %s\n' "$*" >&2; }
die() {
    printf 'bench: ERROR: %s\n' "$*" >&2
    exit 2
}

[[ $WS_MODE =~ ^(latest|all|none)$ ]] || die "BENCH_WS_MODE must be latest, all or none"
for v in SECS THREADS CONNS WS_CLIENTS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v=${!v} is not a positive integer"
done
[[ $AUTOVACUUM == on || $AUTOVACUUM == off ]] || die "BENCH_AUTOVACUUM must be on or off"

# ---- prerequisites ------------------------------------------------------------

command -v wrk >/dev/null || die "wrk is not installed (apt-get install wrk; scripts/deps.sh bench does it)"
command -v psql >/dev/null || die "psql is not installed (apt-get install postgresql)"
command -v python3 >/dev/null || die "python3 is needed to find free ports"
pkg-config --exists libwebsockets || die "libwebsockets development files are missing (libwebsockets-dev)"

say "building $BUILD/ref_lws"
# shellcheck disable=SC2046 # pkg-config output is a list of words
cc -std=c11 -O2 -Wall -Wextra -D_GNU_SOURCE -o "$BUILD/ref_lws" "$ROOT/bench/ref_lws.c" \
    $(pkg-config --cflags --libs libwebsockets) || die "could not build ref_lws"

# ---- temporary directory and cleanup -------------------------------------------

TMP=$(mktemp -d /tmp/toyapp-bench.XXXXXX)
chmod 755 "$TMP"
PIDS=()
CLUSTER_UP=0
SAMPLER=

cleanup() {
    local rc=$? p i
    trap - EXIT INT TERM
    if [[ -n $SAMPLER ]]; then kill "$SAMPLER" 2>/dev/null || true; fi
    for p in "${PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    for p in "${PIDS[@]}"; do
        for ((i = 0; i < 50; i++)); do
            kill -0 "$p" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    if ((CLUSTER_UP)); then
        timeout 60 "$ROOT/postgres/cluster.sh" stop "$TMP/pg" >/dev/null 2>&1 \
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

# Copies of the servers, so that a rebuild during the run cannot swap them.
# A binary being relinked may be missing or half written for a moment: copy
# it once it exists and has not changed for 2 s (a minute at most).
stable_copy() {
    local f=$1 i
    for ((i = 0; i < 120; i++)); do
        if [[ -x $f ]] && (($(date +%s) - $(stat -c %Y "$f" 2>/dev/null || echo 0) >= 2)) \
            && cp "$f" "$TMP/bin/" 2>/dev/null; then
            return 0
        fi
        sleep 0.5
    done
    die "$f is missing (run make all first)"
}
mkdir "$TMP/bin"
for b in toyapp toy-mockapi ref_lws bench_ws; do
    stable_copy "$BUILD/$b"
done

# ---- ports ----------------------------------------------------------------------

# A run of N consecutive free ports on 127.0.0.1, below the ephemeral range
# (32768 and up here), where wrk's and libpq's client sockets take theirs.
free_block() {
    python3 - "$1" <<'EOF'
import os, socket, sys
n = int(sys.argv[1])
for attempt in range(500):
    base = 20000 + (os.getpid() * 13 + attempt * 41) % (32768 - 20000 - n)
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
BASE=$(free_block 6) || die "no free block of ports below 32768"
PG_P=$BASE PG_R=$((BASE + 1)) MOCK=$((BASE + 2)) API=$((BASE + 3)) META=$((BASE + 4)) REF=$((BASE + 5))

# ---- servers ----------------------------------------------------------------------

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

# wait_line PID FILE TEXT: waits (15 s at most) for TEXT in FILE while PID lives.
wait_line() {
    local pid=$1 file=$2 text=$3 i
    for ((i = 0; i < 150; i++)); do
        grep -q "$text" "$file" 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    tail -n 20 "$file" >&2 || true
    return 1
}

TOKEN=bench-token
MOCK_API_TOKEN=$TOKEN "$TMP/bin/toy-mockapi" --port "$MOCK" >"$TMP/mockapi.log" 2>&1 &
PIDS+=($!)
wait_line $! "$TMP/mockapi.log" listening || die "toy-mockapi did not start"

# The live-feed run connects WS_CLIENTS at once: file descriptors for them.
ulimit -n $((WS_CLIENTS + 1024)) 2>/dev/null || say "warning: cannot raise the open files limit to $((WS_CLIENTS + 1024))"
env PORT="$API" METADATA_PORT="$META" HOST=127.0.0.1 CVM_ID=bench WS_MAX_CLIENTS="$WS_CLIENTS" \
    DATABASE_URL="$DB" DATABASE_REPLICA_URL="$DB_R" \
    MOCK_API_URL="http://127.0.0.1:$MOCK" MOCK_API_TOKEN="$TOKEN" \
    TEE_PROVIDER=sim TEE_SIM_SEED="$TMP/tee-seed" APP_ID=toyapp-bench CHAIN=off \
    "$TMP/bin/toyapp" >"$TMP/toyapp.log" 2>&1 &
TOYAPP_PID=$!
PIDS+=("$TOYAPP_PID")
wait_line $TOYAPP_PID "$TMP/toyapp.log" listening || die "toyapp did not start (log above)"

"$TMP/bin/ref_lws" "$REF" >"$TMP/ref_lws.log" 2>&1 &
PIDS+=($!)
wait_line $! "$TMP/ref_lws.log" listening || die "ref_lws did not start"

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
RSS_IDLE_KB=$(rss_kb "$TOYAPP_PID")

# ---- CPU accounting ---------------------------------------------------------------

# CPU ticks (user + system) a process has used, threads included.
proc_ticks() {
    local st
    st=$(cat "/proc/$1/stat" 2>/dev/null) || {
        echo 0
        return
    }
    st=${st##*) }   # the fields after "(comm) "; utime and stime are the 12th and 13th
    awk '{ print $12 + $13 }' <<<"$st"
}

# CPU ticks of both Postgres nodes: each postmaster, its live children (the
# backends, walsender/receiver, checkpointer...) and children already reaped.
pg_ticks() {
    local node pm total=0 pid st ppid
    local -a pms=()
    for node in primary replica; do
        pm=$(head -n 1 "$TMP/pg/$node/postmaster.pid" 2>/dev/null) || continue
        [[ $pm =~ ^[0-9]+$ ]] && pms+=("$pm")
    done
    ((${#pms[@]})) || {
        echo 0
        return
    }
    for st in /proc/[0-9]*/stat; do
        st=$(cat "$st" 2>/dev/null) || continue
        pid=${st%% *}
        st=${st##*) }
        ppid=$(awk '{ print $2 }' <<<"$st")
        for pm in "${pms[@]}"; do
            if [[ $pid == "$pm" ]]; then
                total=$((total + $(awk '{ print $12 + $13 + $14 + $15 }' <<<"$st")))
            elif [[ $ppid == "$pm" ]]; then
                total=$((total + $(awk '{ print $12 + $13 }' <<<"$st")))
            fi
        done
    done
    echo "$total"
}

# Sets CHILD_MS to the CPU ms used by this shell's reaped children so far
# (wrk's included, through timeout).  Not to be called in $(...): a subshell's
# counters start at 0.
children_ms() {
    times >"$TMP/times"
    CHILD_MS=$(awk 'NR == 2 { ms = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); ms += (a[1] * 60 + a[2]) * 1000 }
                   printf "%.0f", ms }' "$TMP/times")
}

# Idle ticks (idle + iowait) and busy ticks (user, nice, system, irq,
# softirq) of the whole machine, summed over all cores: "IDLE BUSY".
machine_ticks() { awk '/^cpu / { print $5 + $6, $2 + $3 + $4 + $7 + $8; exit }' /proc/stat; }

# Share of the machine left idle over the next 2 s, in %.
idle_now() {
    local a b
    a=$(machine_ticks)
    sleep 2
    b=$(machine_ticks)
    awk -v a="${a% *}" -v b="${b% *}" -v t="$TICKS" -v n="$NCPU" 'BEGIN { printf "%.0f", 100 * (b - a) / t / 2 / n }'
}

TICKS=$(getconf CLK_TCK)
NCPU=$(nproc)

# ---- wrk runs -----------------------------------------------------------------------

declare -A RPS P50 P99 NON2XX SOCKERR REQS APPCPU PGCPU WRKCPU OTHER IDLE
ERRORS=0

# run NAME KIND RUN URL SERVER-PID: one wrk run; its BENCH line (bench/http.lua)
# parsed into the arrays above, with the CPU the server under test, Postgres
# and wrk used meanwhile, what the rest of the machine used (other processes,
# the kernel's share of loopback TCP), all in % of one core, and the share
# of the machine left idle.  The full wrk output is kept in $TMP/wrk-NAME.txt.
run() {
    local name=$1 kind=$2 runid=$3 url=$4 spid=$5 out=$TMP/wrk-$1.txt line
    local a0 p0 m0 t0 w0 a1 p1 m1 t1 w1
    say "wrk: $name ($url, ${SECS}s)"
    a0=$(proc_ticks "$spid") p0=$(pg_ticks) m0=$(machine_ticks) t0=$(date +%s%N)
    children_ms
    w0=$CHILD_MS
    if ! BENCH_KIND=$kind BENCH_RUN=$runid timeout $((SECS + 60)) \
        wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --timeout 5s --latency \
        -s "$ROOT/bench/http.lua" "$url" >"$out" 2>&1; then
        cat "$out" >&2
        die "wrk failed on $name"
    fi
    children_ms
    w1=$CHILD_MS
    a1=$(proc_ticks "$spid") p1=$(pg_ticks) m1=$(machine_ticks) t1=$(date +%s%N)
    line=$(grep '^BENCH ' "$out") || {
        cat "$out" >&2
        die "wrk printed no summary for $name"
    }
    local kv k v
    declare -A f=()
    for kv in ${line#BENCH }; do
        k=${kv%%=*} v=${kv#*=}
        f[$k]=$v
    done
    REQS[$name]=${f[requests]}
    RPS[$name]=${f[rps]}
    P50[$name]=${f[p50_ms]}
    P99[$name]=${f[p99_ms]}
    NON2XX[$name]=${f[non2xx]}
    SOCKERR[$name]=$((f[connect] + f[read] + f[write] + f[timeout]))
    local wall=$(((t1 - t0) / 1000000))  # ms
    APPCPU[$name]=$(awk -v d=$((a1 - a0)) -v t="$TICKS" -v w=$wall 'BEGIN { printf "%.0f", 100 * d / t / (w / 1000) }')
    PGCPU[$name]=$(awk -v d=$((p1 - p0)) -v t="$TICKS" -v w=$wall 'BEGIN { printf "%.0f", 100 * d / t / (w / 1000) }')
    WRKCPU[$name]=$(awk -v d=$((w1 - w0)) -v w=$wall 'BEGIN { printf "%.0f", 100 * d / w }')
    IDLE[$name]=$(awk -v d=$((${m1% *} - ${m0% *})) -v t="$TICKS" -v w=$wall -v n="$NCPU" \
        'BEGIN { printf "%.0f", 100 * d / t / (w / 1000) / n }')
    OTHER[$name]=$(awk -v b=$((${m1#* } - ${m0#* })) -v t="$TICKS" -v w=$wall \
        -v u=$((a1 - a0 + p1 - p0)) -v wm=$((w1 - w0)) \
        'BEGIN { x = 100 * (b - u) / t / (w / 1000) - 100 * wm / w; printf "%.0f", x < 0 ? 0 : x }')
    if ((NON2XX[$name] || SOCKERR[$name] || REQS[$name] == 0)); then
        ERRORS=1
        say "!!! $name: ${NON2XX[$name]} non-2xx responses, ${SOCKERR[$name]} socket errors" \
            "(connect ${f[connect]}, read ${f[read]}, write ${f[write]}, timeout ${f[timeout]})"
        grep -E 'Non-2xx|Socket errors' "$out" >&2 || true
    fi
    sleep 1
}

# RSS of toyapp every 0.5 s from the first toyapp run to the last.
sample_rss() {
    while kill -0 "$TOYAPP_PID" 2>/dev/null; do
        rss_kb "$TOYAPP_PID" >>"$TMP/rss.txt"
        sleep 0.5
    done
}

# ---- Postgres helpers ---------------------------------------------------------------

q() { timeout 600 psql "$DB" -X -q -v ON_ERROR_STOP=1 -tA "$@"; }

# pg_super NODE SQL: SQL as the database superuser on primary or replica.
pg_super() { timeout 300 "$ROOT/postgres/cluster.sh" sql "$TMP/pg" "$@"; }

# Waits (2 minutes at most) until the replica has replayed all the primary's WAL.
wait_replica() {
    PG_WAIT_SECONDS=120 "$ROOT/postgres/cluster.sh" catchup "$TMP/pg" >/dev/null 2>&1 \
        || say "warning: the replica has not caught up after 2 minutes"
}

# Before a write scenario: VACUUM (ANALYZE) of the database, the replica
# caught up, and a checkpoint on both nodes, then a pause.  What an earlier
# scenario or the bulk load left behind (dead tuples, stale statistics, dirty
# buffers) is dealt with now, as it long would be in a running service,
# rather than by autovacuum or a checkpoint in the middle of the next run:
# autovacuum's first pass, a minute or so after the start, otherwise lands
# on whichever run is going then.
settle() {
    PGOPTIONS='-c client_min_messages=error' q -c "VACUUM (ANALYZE)" || say "warning: VACUUM failed"
    wait_replica
    pg_super primary CHECKPOINT >/dev/null || say "warning: CHECKPOINT on the primary failed"
    pg_super replica CHECKPOINT >/dev/null || say "warning: CHECKPOINT on the replica failed"
    sleep 1
}

# ---- the scenarios ------------------------------------------------------------------

REF_PID=${PIDS[2]}

# Autovacuum visits the database once a minute and then spends a second or
# so of a core on the tables the runs grew (audit_log, tree_nodes, ...):
# whichever 10 s run it lands on loses throughput and gets a p99 several
# times higher, which would make two runs incomparable.  So it is off here
# and settle() runs the same VACUUM (ANALYZE) between runs instead;
# BENCH_AUTOVACUUM=on keeps it on.
if [[ $AUTOVACUUM == off ]]; then
    if ! pg_super primary "ALTER SYSTEM SET autovacuum = off" >/dev/null \
        || ! pg_super primary "SELECT pg_reload_conf()" >/dev/null; then
        die "could not turn autovacuum off (BENCH_AUTOVACUUM=on runs with it)"
    fi
fi
sleep 1   # let the fresh cluster and toyapp's first health checks settle
IDLE_BEFORE=$(idle_now)

# Each reference runs just before the toyapp scenario it is compared with,
# so that both see the same background (Postgres checkpoints, autovacuum).
sample_rss &
SAMPLER=$!
settle
run ref_echo submit 0 "http://127.0.0.1:$REF/echo" "$REF_PID"
run submit submit 1 "http://127.0.0.1:$API/submit-data" "$TOYAPP_PID"
settle
run submit_keyed submit_keyed 4 "http://127.0.0.1:$API/submit-data" "$TOYAPP_PID"
settle
run signup signup 2 "http://127.0.0.1:$API/signup" "$TOYAPP_PID"
settle
run ref_health get 0 "http://127.0.0.1:$REF/health" "$REF_PID"
run health get 0 "http://127.0.0.1:$API/health" "$TOYAPP_PID"

# ---- the live feed: WebSocket clients while submit-data runs ----------------------

# submit-data without clients (the reference), then with WS_CLIENTS of them
# connected to GET /ws?entries=WS_MODE (bench/bench_ws.c: one process, one
# epoll loop), which also measures the delay from a commit to the frame
# that shows it (bench/README.md, "The live feed").
settle
run submit_ref submit 6 "http://127.0.0.1:$API/submit-data" "$TOYAPP_PID"
settle
mkfifo "$TMP/ws.in"
"$TMP/bin/bench_ws" "$API" "$WS_CLIENTS" "$WS_MODE" "$SECS" 20 <"$TMP/ws.in" >"$TMP/ws.out" 2>"$TMP/ws.err" &
WS_PID=$!
PIDS+=("$WS_PID")
exec 4>"$TMP/ws.in"
for ((i = 0; i < 600; i++)); do
    grep -q '^ready' "$TMP/ws.out" 2>/dev/null && break
    kill -0 "$WS_PID" 2>/dev/null || break
    sleep 0.1
done
WS_READY=$(sed -n 's/^ready //p' "$TMP/ws.out")
[[ $WS_READY == "$WS_CLIENTS" ]] || say "!!! only ${WS_READY:-0} of $WS_CLIENTS WebSocket clients connected"
RSS_WS_FROM=$(wc -l <"$TMP/rss.txt")
echo go >&4
run submit_ws submit 7 "http://127.0.0.1:$API/submit-data" "$TOYAPP_PID"
exec 4>&-
wait "$WS_PID" || say "!!! bench_ws reported a failure (see below)"
WS_LINE=$(grep '^BENCHWS ' "$TMP/ws.out" || true)
RSS_WS_KB=$(tail -n +"$((RSS_WS_FROM + 1))" "$TMP/rss.txt" | sort -n | tail -n 1)
declare -A WS=()
for kv in ${WS_LINE#BENCHWS }; do
    WS[${kv%%=*}]=${kv#*=}
done
[[ -n $WS_LINE ]] || { ERRORS=1; say "!!! bench_ws printed no summary"; cat "$TMP/ws.err" >&2; }

# ---- a million signups ------------------------------------------------------------

say "inserting $MILLION signups directly in SQL"
T0=$SECONDS
q <<EOF || die "inserting the million signups failed"
BEGIN;
INSERT INTO signups (user_id_hash, source_cvm)
    SELECT sha256(i::text::bytea), 'bench' FROM generate_series(1, $MILLION) i;
UPDATE counters SET value = value + $MILLION WHERE name = 'signup';
COMMIT;
VACUUM (ANALYZE) signups;
EOF
say "inserted in $((SECONDS - T0)) s; letting the replica replay it"
SIGNUP_ROWS=$(q -c "SELECT count(*) FROM signups")
SIGNUP_COUNTER=$(q -c "SELECT value FROM counters WHERE name = 'signup'")
settle

run signup_1m signup 3 "http://127.0.0.1:$API/signup" "$TOYAPP_PID"

kill "$SAMPLER" 2>/dev/null || true
wait "$SAMPLER" 2>/dev/null || true
SAMPLER=
kill -0 "$TOYAPP_PID" 2>/dev/null || {
    ERRORS=1
    say "!!! toyapp exited during the benchmark"
}
RSS_MAX_KB=$(sort -n "$TMP/rss.txt" 2>/dev/null | tail -n 1)
RSS_MAX_KB=${RSS_MAX_KB:-0}
RSS_N=$(wc -l <"$TMP/rss.txt" 2>/dev/null || echo 0)

# Sanity: the submit-data bodies were distinct (one pseudonym per receipt).
RECEIPTS=$(q -c "SELECT count(*) || ' rows, ' || count(DISTINCT user_id_hash) || ' distinct user ids' FROM user_data_receipts")

# ---- report ------------------------------------------------------------------------

# fmt X: decimal with thousands separators, no fraction.
fmt() { LC_ALL=C awk -v x="$1" 'BEGIN { s = sprintf("%.0f", x); o = ""
    while (length(s) > 3) { o = "," substr(s, length(s) - 2) o; s = substr(s, 1, length(s) - 3) }
    print s o }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
verdict() { if "$@"; then echo "met"; else echo "MISSED"; fi; }

row() {  # row NAME LABEL TARGET-TEXT VERDICT
    printf '%-34s %7s %7s %7s %7s %7s %4s %4s %4s %6s %5s  %s\n' "$2" "$(fmt "${RPS[$1]}")" "${P50[$1]}" \
        "${P99[$1]}" "${NON2XX[$1]}" "${SOCKERR[$1]}" "${APPCPU[$1]}" "${PGCPU[$1]}" "${WRKCPU[$1]}" \
        "${OTHER[$1]}" "${IDLE[$1]}" "$3${4:+ $4}"
}

submit_ok() { ge "${RPS[submit]}" "$T_SUBMIT_RPS" && le "${P99[submit]}" "$T_SUBMIT_P99_MS"; }
V_SUBMIT=$(verdict submit_ok)
V_SIGNUP=$(verdict ge "${RPS[signup]}" $T_SIGNUP_RPS)
V_SIGNUP_1M=$(verdict ge "${RPS[signup_1m]}" $T_SIGNUP_RPS)
V_HEALTH=$(verdict ge "${RPS[health]}" $T_HEALTH_RPS)
R_SUBMIT=$(ratio "${RPS[submit]}" "${RPS[ref_echo]}")
R_KEYED=$(ratio "${RPS[submit_keyed]}" "${RPS[submit]}")
V_KEYED=$(verdict ge "$R_KEYED" 0.90)
R_HEALTH=$(ratio "${RPS[health]}" "${RPS[ref_health]}")
R_1M=$(ratio "${RPS[signup_1m]}" "${RPS[signup]}")
V_1M=$(verdict ge "$R_1M" $T_SIGNUP_KEEP)
RSS_MAX_MB=$(awk -v k="$RSS_MAX_KB" 'BEGIN { printf "%.1f", k / 1024 }')
RSS_IDLE_MB=$(awk -v k="$RSS_IDLE_KB" 'BEGIN { printf "%.1f", k / 1024 }')
V_RSS=$(verdict le "$RSS_MAX_MB" $T_RSS_MB)
R_WS=$(ratio "${RPS[submit_ws]}" "${RPS[submit_ref]}")
V_WS=$(verdict ge "$R_WS" $T_WS_KEEP)
V_WS_P99=$(verdict le "${WS[p99_ms]:-999999}" $T_WS_P99_MS)
RSS_WS_MB=$(awk -v k="${RSS_WS_KB:-0}" 'BEGIN { printf "%.1f", k / 1024 }')

{
    echo
    echo "toyapp HTTP benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $NCPU cores shared by wrk, the servers and Postgres"
    echo "wrk -t$THREADS -c$CONNS -d${SECS}s --latency on 127.0.0.1; every POST body distinct;" \
        "machine ${IDLE_BEFORE}% idle before the runs"
    if [[ $AUTOVACUUM == off ]]; then
        echo "Postgres autovacuum off during the runs, VACUUM (ANALYZE) + CHECKPOINT before each write run"
    else
        echo "Postgres autovacuum on; VACUUM (ANALYZE) + CHECKPOINT before each write run"
    fi
    echo
    printf '%-34s %7s %7s %7s %7s %7s %4s %4s %4s %6s %5s  %s\n' scenario req/s "p50 ms" "p99 ms" non-2xx \
        sockerr srv% pg% wrk% other% idle% target
    row submit "toyapp POST /submit-data" ">= $(fmt $T_SUBMIT_RPS) req/s, p99 <= $T_SUBMIT_P99_MS ms" "$V_SUBMIT"
    row submit_keyed "toyapp POST /submit-data, keyed" "each with its own Idempotency-Key" ""
    row signup "toyapp POST /signup" ">= $(fmt $T_SIGNUP_RPS) req/s" "$V_SIGNUP"
    row signup_1m "toyapp POST /signup, +1M signups" ">= $(fmt $T_SIGNUP_RPS) req/s" "$V_SIGNUP_1M"
    row health "toyapp GET /health" ">= $(fmt $T_HEALTH_RPS) req/s" "$V_HEALTH"
    row ref_echo "ref_lws POST /echo, same bodies" "(reference)" ""
    row ref_health "ref_lws GET /health" "(reference)" ""
    row submit_ref "toyapp POST /submit-data, again" "(reference of the next row)" ""
    row submit_ws "  ... with $WS_CLIENTS WebSocket clients" "($WS_MODE entries)" ""
    echo
    printf '%-34s %7s\n' "toyapp submit-data / ref echo" "$R_SUBMIT"
    printf '%-34s %7s  %s %s\n' "submit-data keyed / without keys" "$R_KEYED" ">= 0.90" "$V_KEYED"
    printf '%-34s %7s\n' "toyapp health / ref health" "$R_HEALTH"
    printf '%-34s %7s  %s %s\n' "signup with +1M / with none" "$R_1M" ">= $T_SIGNUP_KEEP" "$V_1M"
    printf '%-34s %7s  %s %s\n' "toyapp max RSS under load, MB" "$RSS_MAX_MB" "<= $T_RSS_MB MB" "$V_RSS"
    printf '%-34s %7s  %s %s\n' "submit-data with clients / without" "$R_WS" ">= $T_WS_KEEP" "$V_WS"
    printf '%-34s %7s  %s %s\n' "commit to frame p99, ms" "${WS[p99_ms]:-n/a}" "<= $T_WS_P99_MS ms" "$V_WS_P99"
    printf '%-34s %7s\n' "toyapp RSS with the clients, MB" "$RSS_WS_MB"
    echo
    echo "The live feed: $WS_CLIENTS clients of GET /ws?entries=$WS_MODE (bench_ws, ${WS[cpu_pct]:-?}% of a core), ${WS[ready]:-0}" \
        "connected, ${WS[open_at_end]:-0} still open at the end (closed: ${WS[close_codes]:-?});" \
        "${WS[frames]:-0} frames, ${WS[mbytes]:-0} MB received."
    echo "Commit to frame: from each of ${WS[probes]:-0} probe submissions' answers to the first tree head" \
        "covering it, at each client: p50 ${WS[p50_ms]:-?} ms, p99 ${WS[p99_ms]:-?} ms, max ${WS[max_ms]:-?} ms" \
        "(${WS[delays]:-0} delays, ${WS[missing]:-0} never seen)."
    echo
    echo "CPU in % of one core during each run: srv% the server under test (toyapp or ref_lws),"
    echo "pg% both Postgres nodes, wrk% the load generator, other% everything else (the kernel's"
    echo "loopback TCP not charged to a process, other processes); idle% of all $NCPU cores."
    echo "toyapp RSS: $RSS_IDLE_MB MB idle before the runs; max of $RSS_N samples (every 0.5 s) from its first run to its last."
    echo "signups before the +1M run: $SIGNUP_ROWS rows, counter $SIGNUP_COUNTER; user_data_receipts: $RECEIPTS."
    busy=
    for n in submit submit_keyed signup signup_1m health ref_echo ref_health submit_ref submit_ws; do
        ((OTHER[$n] <= 50)) || busy+=" $n (${OTHER[$n]}%)"
    done
    if [[ -n $busy ]]; then
        echo "WARNING: more than half a core went to other work during:$busy; those figures are low."
    fi
    if ((IDLE_BEFORE < 80)); then
        echo "WARNING: the machine was only ${IDLE_BEFORE}% idle before the runs: other work competed for the cores."
    fi
    if ((ERRORS)); then
        echo
        echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
        echo "!!! THIS RUN HAD ERRORS (non-2xx responses, socket errors or a dead server):"
        echo "!!! the figures above do not measure a working service.  Rerun with"
        echo "!!! BENCH_KEEP=1 to keep the wrk outputs and server logs in the temporary"
        echo "!!! directory."
        echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
    fi
}

exit $((ERRORS ? 1 : 0))

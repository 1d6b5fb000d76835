#!/usr/bin/env bash
# Where Postgres's time goes per POST /submit-data, and how close toyapp
# comes to the cluster's batched-insert ceiling.
#
# On 127.0.0.1, in a temporary directory: a Postgres primary and
# synchronous replica (postgres/cluster.sh), toy-mockapi and toyapp (sim TEE,
# no chain).  After a warm-up and a CHECKPOINT on both nodes, wrk posts
# submit-data for BENCH_SECONDS; meanwhile nothing else runs.  Printed, per
# acknowledged submission:
#   - CPU of every Postgres process, grouped by role (the primary's client
#     backends, its WAL writer, WAL sender, checkpointer, background writer,
#     autovacuum; the replica's startup (replay), WAL receiver, ...), and
#     toyapp's own, from /proc before and after;
#   - WAL: records, full-page images, bytes (pg_stat_wal);
#   - rows written, per table (pg_stat_user_tables: inserted, updated,
#     deleted).
# Then the reference, on the same cluster: pgbench, 4 clients, each
# transaction inserting 100 rows shaped like audit_log's (a bigserial key, a
# short text with its own index, 300 bytes of entry, a 32-byte hash) in one
# statement, for BENCH_SECONDS.  The ratio is toyapp's rows written per
# second (every table) over pgbench's rows per second.
#
# Usage: BUILD=build bench/pg_cost.sh [TOYAPP]   (after `make all`)
# Environment: BUILD (default build), BENCH_SECONDS (10), BENCH_CONNECTIONS
# (64), BENCH_KEEP=1 (keep the temporary directory).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
APP=$(realpath "${1:-$BUILD/toyapp}")
SECS=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-64}
KIND=${BENCH_KIND:-submit}   # or submit_keyed: each with its own Idempotency-Key
HZ=$(getconf CLK_TCK)
PG_BIN=${PG_BIN:-$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -1)}
command -v wrk >/dev/null || { echo "pg_cost: wrk is not installed (scripts/deps.sh bench)" >&2; exit 2; }
[[ -x $PG_BIN/pgbench ]] || { echo "pg_cost: $PG_BIN/pgbench is missing" >&2; exit 2; }

say() { printf 'pg_cost: %s\n' "$*" >&2; }
die() { printf 'pg_cost: ERROR: %s\n' "$*" >&2; exit 2; }
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
TOYAPP_BIN=$APP bench_start pgcost
APP_PID=$APP PORT=$API
for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$PORT/ready" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -sf "http://127.0.0.1:$PORT/ready" >/dev/null || die "toyapp is not ready: $(cat "$TMP/toyapp.log")"

su_sql() { postgres/cluster.sh sql "$TMP/pg" "$1" "$2"; }
app_sql() { psql "$DATABASE_URL" -tAc "$1"; }

# Per role, summed: "node|role<TAB>ticks".  A client backend is named by its
# connection's application_name (toyapp-writer, toyapp-sequencer, ...).
roles() {
    local node pm p title role f
    declare -A app=()
    while IFS='|' read -r p role; do app[$p]=$role; done \
        < <(su_sql primary "SELECT pid, application_name FROM pg_stat_activity WHERE backend_type = 'client backend'")
    for node in primary replica; do
        pm=$(head -1 "$TMP/pg/$node/postmaster.pid")
        for p in $pm $(pgrep -P "$pm" || true); do
            f=$(cut -d' ' -f14,15 "/proc/$p/stat" 2>/dev/null) || continue
            title=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null || true)
            case $title in
                *"toyapp toyapp"*) role="backend ${app[$p]:-toyapp}" ;;
                *"postgres postgres"*) role="admin backends" ;;
                *walsender*) role="WAL sender" ;;
                *walwriter*) role="WAL writer" ;;
                *walreceiver*) role="WAL receiver" ;;
                *startup*) role="startup (replay)" ;;
                *checkpointer*) role="checkpointer" ;;
                *"background writer"*) role="background writer" ;;
                *autovacuum*) role="autovacuum" ;;
                *) role="other" ;;
            esac
            printf '%s|%s\t%d\n' "$node" "$role" $((${f% *} + ${f#* }))
        done
    done
    printf 'toyapp|toyapp\t%d\n' $(($(cut -d' ' -f14 "/proc/$APP_PID/stat") + $(cut -d' ' -f15 "/proc/$APP_PID/stat")))
}
TABLES_SQL="SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables ORDER BY relname"
WAL_SQL="SELECT wal_records, wal_fpi, wal_bytes FROM pg_stat_wal"

# Warm up, then start from a checkpoint on both nodes.
BENCH_KIND=$KIND BENCH_RUN=1 wrk -t2 -c"$CONNS" -d2s -s bench/http.lua "http://127.0.0.1:$PORT/submit-data" >/dev/null
sleep 1
PGOPTIONS='-c client_min_messages=error' psql "$DATABASE_URL" -qc "VACUUM (ANALYZE)" >/dev/null
su_sql primary CHECKPOINT >/dev/null
su_sql replica CHECKPOINT >/dev/null
sleep 1

roles >"$TMP/cpu0"
app_sql "$TABLES_SQL" >"$TMP/tab0"
app_sql "$WAL_SQL" >"$TMP/wal0"
out=$(BENCH_KIND=$KIND BENCH_RUN=2 wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -s bench/http.lua \
      "http://127.0.0.1:$PORT/submit-data" 2>&1 | grep '^BENCH')
sleep 1   # the sequencer's and the replica's share of the run
postgres/cluster.sh catchup "$TMP/pg" >/dev/null
roles >"$TMP/cpu1"
app_sql "$TABLES_SQL" >"$TMP/tab1"
app_sql "$WAL_SQL" >"$TMP/wal1"
kv() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$out"; }
REQS=$(kv requests)
RPS=$(kv rps)
echo "submit-data: $REQS acknowledged in ${SECS}s, $(printf '%.0f' "$RPS") req/s, p50 $(kv p50_ms) ms, p99 $(kv p99_ms) ms"

echo
echo "CPU per submission (us), by process:"
# shellcheck disable=SC2016
awk -F'\t' -v hz="$HZ" -v n="$REQS" '
    NR == FNR { a[$1] += $2; next }
    { b[$1] += $2 }
    END {
        for (k in b) { d = (b[k] - a[k]) * 1e6 / hz / n; if (k !~ /^toyapp/) pg += d; printf "  %-34s %7.1f\n", k, d }
        printf "  %-34s %7.1f\n", "= Postgres, all processes", pg
    }' "$TMP/cpu0" "$TMP/cpu1" | sort -k1,1 -s
read -r r0 f0 b0 < <(tr '|' ' ' <"$TMP/wal0")
read -r r1 f1 b1 < <(tr '|' ' ' <"$TMP/wal1")
echo
printf 'WAL per submission: %.1f records, %.3f full-page images, %.0f bytes\n' \
    "$(bc -l <<<"($r1 - $r0) / $REQS")" "$(bc -l <<<"($f1 - $f0) / $REQS")" "$(bc -l <<<"($b1 - $b0) / $REQS")"
echo
echo "rows per submission, by table (inserted / updated / deleted):"
join -t'|' "$TMP/tab0" "$TMP/tab1" | awk -F'|' -v n="$REQS" '
    { i = $5 - $2; u = $6 - $3; d = $7 - $4; if (i + u + d) printf "  %-22s %6.3f %6.3f %6.3f\n", $1, i / n, u / n, d / n; w += i + u }
    END { printf "  %-22s %6.3f\n", "= rows written", w / n; print w > "/dev/stderr" }' 2>"$TMP/written"
WRITTEN=$(cat "$TMP/written")

# ---- the reference: pgbench's batched inserts on the same cluster ----------
psql "$DATABASE_URL" -q <<'EOF'
SET client_min_messages = warning;
DROP TABLE IF EXISTS bench_rows;
CREATE TABLE bench_rows (id bigserial PRIMARY KEY, action text NOT NULL, receipt_id text,
                         entry bytea, leaf_hash bytea NOT NULL);
CREATE INDEX ON bench_rows (receipt_id);
EOF
cat >"$TMP/batch.sql" <<'EOF'
INSERT INTO bench_rows (action, receipt_id, entry, leaf_hash)
SELECT 'data_received', 'r_' || lpad(to_hex(:client_id), 8, '0') || lpad(to_hex(g), 8, '0') || md5(:scale::text),
       decode(repeat('ab', 300), 'hex'), sha256(int8send(g))
FROM generate_series(1, 100) AS g;
EOF
su_sql primary CHECKPOINT >/dev/null
"$PG_BIN/pgbench" -n -f "$TMP/batch.sql" -c 4 -j 2 -T "$SECS" "$DATABASE_URL" >"$TMP/pgbench.out" 2>&1
TPS=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$TMP/pgbench.out" | tail -1)
REF=$(bc -l <<<"$TPS * 100")
MINE=$(bc -l <<<"$WRITTEN / $SECS")
echo
printf 'pgbench, 100-row inserts, 4 clients, same cluster: %.0f rows/s\n' "$REF"
printf 'toyapp: %.0f rows written/s; ratio to the ceiling %.2f (target 0.6)\n' "$MINE" "$(bc -l <<<"$MINE / $REF")"

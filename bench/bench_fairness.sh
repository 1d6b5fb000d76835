#!/usr/bin/env bash
# Fairness: what one client's pipelined flood does to everybody else.
#
# Starts, on 127.0.0.1 only and in a temporary directory, a Postgres
# primary and replica (postgres/cluster.sh), toy-mockapi and toyapp.  Then
# measures GET /health latency (wrk --latency, 4 connections) twice: alone,
# and while one connection floods POST /submit-data with requests pipelined
# BENCH_DEPTH deep (wrk with a Lua script that sends them in one write).
# Prints /health's p50, p99 and max in both runs, the flood's rate, and the
# ratio; the target is a p99 of at most 20 ms under the flood.
#
# Usage: BUILD=build bench/bench_fairness.sh      (after `make all`)
# Environment: BUILD (default build), BENCH_SECONDS (10), BENCH_DEPTH (64),
#   BENCH_FLOOD_CONNECTIONS (1), BENCH_KEEP=1 (keep the temporary directory).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
SECS=${BENCH_SECONDS:-10}
DEPTH=${BENCH_DEPTH:-64}
FLOODC=${BENCH_FLOOD_CONNECTIONS:-1}
T_P99_MS=20

say() { printf 'fairness: %s\n' "$*" >&2; }
die() { printf 'fairness: ERROR: %s\n' "$*" >&2; exit 2; }
command -v wrk >/dev/null || die "wrk is not installed (scripts/deps.sh bench)"
for b in toyapp toy-mockapi; do [[ -x $BUILD/$b ]] || die "$BUILD/$b is missing (make all)"; done

TMP=$(mktemp -d /tmp/toyapp-fair.XXXXXX)
chmod 755 "$TMP"
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    "$ROOT/postgres/cluster.sh" stop "$TMP/pg" >/dev/null 2>&1 || true
    if [[ -n ${BENCH_KEEP:-} ]]; then say "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

read -r BASE < <(python3 -c '
import socket
for b in range(21000, 31000, 17):
    try:
        ss = [socket.socket() for _ in range(5)]
        for i, s in enumerate(ss): s.bind(("127.0.0.1", b + i))
        print(b); break
    except OSError: pass
    finally:
        for s in ss: s.close()')
export PG_PRIMARY_PORT=$BASE PG_REPLICA_PORT=$((BASE + 1))
MOCK=$((BASE + 2)) API=$((BASE + 3)) META=$((BASE + 4))
say "starting Postgres, toy-mockapi and toyapp"
"$ROOT/postgres/cluster.sh" init "$TMP/pg" >/dev/null
eval "$("$ROOT/postgres/cluster.sh" env "$TMP/pg" | sed 's/^/export /')"
MOCK_API_TOKEN=t "$BUILD/toy-mockapi" --port "$MOCK" >"$TMP/mock.log" 2>&1 &
PIDS+=($!)
PORT=$API METADATA_PORT=$META MOCK_API_URL=http://127.0.0.1:$MOCK MOCK_API_TOKEN=t TEE_PROVIDER=sim \
    TEE_SIM_SEED=$TMP/seed CVM_ID=fair CHAIN=off "$BUILD/toyapp" >"$TMP/toyapp.out" 2>"$TMP/toyapp.log" &
PIDS+=($!)
for _ in $(seq 200); do grep -q listening "$TMP/toyapp.out" 2>/dev/null && break; sleep 0.05; done
grep -q listening "$TMP/toyapp.out" || die "toyapp did not start: $(cat "$TMP/toyapp.log")"

cat >"$TMP/flood.lua" <<LUA
init = function(args)
  local r = {}
  for i = 1, $DEPTH do
    r[i] = wrk.format("POST", "/submit-data", {["Content-Type"] = "application/json"},
                      '{"userId":"flood","sensitivePayload":"a pipelined flood of movies, age: 30"}')
  end
  req = table.concat(r)
end
request = function() return req end
LUA

# health_run NAME: GET /health latency over SECS seconds, 4 connections.
health_run() {
    wrk -t1 -c4 -d"${SECS}s" --latency "http://127.0.0.1:$API/health" >"$TMP/health-$1.txt"
}
lat() {  # lat FILE KEY(50%|99%|Max): milliseconds
    awk -v k="$2" '
        function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
        k == "Max" && $1 == "Latency" { print ms($4); exit }
        $1 == k { print ms($2); exit }' "$1"
}

say "GET /health alone, ${SECS}s"
health_run alone
say "GET /health while $FLOODC connection(s) flood POST /submit-data, $DEPTH deep"
wrk -t1 -c"$FLOODC" -d"$((SECS + 2))s" -s "$TMP/flood.lua" "http://127.0.0.1:$API" >"$TMP/flood.txt" 2>&1 &
FLOOD=$!
sleep 1
health_run flood
wait "$FLOOD" || true
flood_rps=$(awk '/^Requests\/sec/ { print $2 }' "$TMP/flood.txt")
# wrk counts every response (the Lua script sends DEPTH requests at once).
flood_subs=$(awk -v r="$flood_rps" 'BEGIN { printf "%.0f", r }')

printf '\n%-34s %10s %10s %10s\n' "GET /health latency (ms)" p50 p99 max
for r in alone flood; do
    printf '%-34s %10.2f %10.2f %10.2f\n' "$r" "$(lat "$TMP/health-$r.txt" 50%)" \
        "$(lat "$TMP/health-$r.txt" 99%)" "$(lat "$TMP/health-$r.txt" Max)"
done
p99a=$(lat "$TMP/health-alone.txt" 99%) p99f=$(lat "$TMP/health-flood.txt" 99%)
printf '%-34s %10s\n' "flood: submissions/s" "$flood_subs"
printf '%-34s %10s\n' "p99 under flood / p99 alone" "$(awk -v a="$p99f" -v b="$p99a" 'BEGIN { printf "%.1f", a / b }')"
if awk -v a="$p99f" -v t="$T_P99_MS" 'BEGIN { exit !(a <= t) }'; then
    printf 'target: /health p99 under the flood at most %s ms: met\n' "$T_P99_MS"
else
    printf 'target: /health p99 under the flood at most %s ms: MISSED\n' "$T_P99_MS"
fi

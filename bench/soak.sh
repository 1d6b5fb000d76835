#!/usr/bin/env bash
# A soak: submit-data at half of its peak for SOAK_MINUTES (30), then the
# log checked whole.
#
# Starts, on 127.0.0.1 only and in a temporary directory, a Postgres
# primary and replica, toy-mockapi and toyapp.  Measures the peak (wrk, 10 s,
# 64 connections), then runs the soak in SOAK_SLICE_SECONDS (60) slices
# with a delay per request that keeps the rate near half the peak, and
# records per slice: rate, p50, p99, max, errors, toyapp's RSS.  At the end:
# the sequencer catches up; the tree size equals the number of entries; the
# signed head's root equals the RFC 6962 root recomputed from every leaf
# hash in the database; a consistency proof from the first head of the
# soak to the last verifies (Python's hashlib, RFC 9162).
#
# Usage: BUILD=build bench/soak.sh     (after `make all`); BENCH_KEEP=1 keeps
# the temporary directory.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
MINUTES=${SOAK_MINUTES:-30}
SLICE=${SOAK_SLICE_SECONDS:-60}
CONNS=64

say() { printf 'soak: %s\n' "$*" >&2; }
die() { printf 'soak: ERROR: %s\n' "$*" >&2; exit 2; }
command -v wrk >/dev/null || die "wrk is not installed (scripts/deps.sh bench)"

TMP=$(mktemp -d /tmp/toyapp-soak.XXXXXX)
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
for b in range(22000, 31000, 19):
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
    TEE_SIM_SEED=$TMP/seed CVM_ID=soak CHAIN=off "$BUILD/toyapp" >"$TMP/toyapp.out" 2>"$TMP/toyapp.log" &
APP=$!
PIDS+=("$APP")
for _ in $(seq 200); do grep -q listening "$TMP/toyapp.out" 2>/dev/null && break; sleep 0.05; done
grep -q listening "$TMP/toyapp.out" || die "toyapp did not start: $(cat "$TMP/toyapp.log")"

field() { sed -n "s/.* $2=\\([^ ]*\\).*/\\1/p" "$1"; }
rss_mb() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$APP/status"; }

say "peak: 10 s, $CONNS connections, no delay"
SOAK_DELAY_MS=0 SOAK_RUN=1 wrk -t2 -c$CONNS -d10s -s "$ROOT/bench/soak.lua" "http://127.0.0.1:$API" >"$TMP/peak.txt"
PEAK=$(field "$TMP/peak.txt" rps)
PEAK_P99=$(field "$TMP/peak.txt" p99_ms)
# The delay that gives about half the peak: each connection then sends a
# request every CONNS/(peak/2) seconds, less the time one takes.
DELAY=$(awk -v p="$PEAK" -v c=$CONNS 'BEGIN { d = 1000 * c / (p / 2) - 1000 * c / p; printf "%d", d < 1 ? 1 : d }')
say "peak $PEAK req/s (p99 $PEAK_P99 ms); soak at about half: delay ${DELAY} ms per request per connection"

head0=$(curl -fsS "http://127.0.0.1:$API/log/head" || echo '{}')
slices=$((MINUTES * 60 / SLICE))
printf '%-6s %9s %8s %8s %8s %7s %8s\n' slice "req/s" "p50 ms" "p99 ms" "max ms" errors "RSS MB" | tee "$TMP/soak.tsv"
for ((i = 1; i <= slices; i++)); do
    SOAK_DELAY_MS=$DELAY SOAK_RUN=$((i + 1)) wrk -t2 -c$CONNS -d"${SLICE}s" --timeout 5s \
        -s "$ROOT/bench/soak.lua" "http://127.0.0.1:$API" >"$TMP/slice-$i.txt"
    printf '%-6s %9s %8s %8s %8s %7s %8s\n' "$i" "$(field "$TMP/slice-$i.txt" rps)" \
        "$(field "$TMP/slice-$i.txt" p50_ms)" "$(field "$TMP/slice-$i.txt" p99_ms)" \
        "$(field "$TMP/slice-$i.txt" max_ms)" \
        "$(($(field "$TMP/slice-$i.txt" non2xx) + $(field "$TMP/slice-$i.txt" errors)))" "$(rss_mb)" | tee -a "$TMP/soak.tsv"
done

say "waiting for the sequencer to catch up"
for _ in $(seq 600); do
    [[ $(psql "$DATABASE_URL" -tAc "SELECT count(*) FROM log_queue") == 0 ]] && break
    sleep 0.5
done
sleep 1
head1=$(curl -fsS "http://127.0.0.1:$API/log/head")
python3 - "$DATABASE_URL" "$API" "$head0" "$head1" <<'PY'
import hashlib, json, subprocess, sys, urllib.request
db, api, h0, h1 = sys.argv[1], sys.argv[2], json.loads(sys.argv[3] or "{}"), json.loads(sys.argv[4])
entries = int(subprocess.run(["psql", db, "-tAc", "SELECT count(*) FROM audit_log"], capture_output=True,
                             text=True, check=True).stdout)
leaves = subprocess.run(["psql", db, "-tAc", "SELECT encode(leaf_hash, 'hex') FROM log_leaf_range(0,"
                         " (SELECT tree_size FROM tree_state WHERE id = 1))"],
                        capture_output=True, text=True, check=True).stdout.split()
def mth(hs):
    level = [bytes.fromhex(h) for h in hs]
    if not level:
        return hashlib.sha256(b"").digest()
    while len(level) > 1:
        nxt = [hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]
root = mth(leaves).hex()
print("log: %d entries, tree size %d, %d leaves; root recomputed from every leaf %s the signed head's"
      % (entries, h1["treeSize"], len(leaves), "equals" if root == h1["root"] else "DIFFERS FROM"))
ok = entries == h1["treeSize"] == len(leaves) and root == h1["root"]
m = h0.get("treeSize", 0)
if m:
    proof = json.load(urllib.request.urlopen("http://127.0.0.1:%s/log/consistency?from=%d&to=%d" % (api, m, h1["treeSize"])))
    # RFC 9162 2.1.4.2
    n, p = h1["treeSize"], [bytes.fromhex(x) for x in proof["path"]]
    if m & (m - 1) == 0:
        p = [bytes.fromhex(h0["root"])] + p
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1; sn >>= 1
    fr = sr = p[0]
    for c in p[1:]:
        if fn & 1 or fn == sn:
            fr = hashlib.sha256(b"\x01" + c + fr).digest(); sr = hashlib.sha256(b"\x01" + c + sr).digest()
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1; sn >>= 1
        else:
            sr = hashlib.sha256(b"\x01" + sr + c).digest()
        fn >>= 1; sn >>= 1
    cons = sn == 0 and fr.hex() == h0["root"] and sr.hex() == h1["root"]
    print("consistency from the soak's first head (size %d) to its last (size %d): %s" % (m, n, "verified" if cons else "FAILED"))
    ok = ok and cons
sys.exit(0 if ok else 1)
PY
echo "soak: peak $PEAK req/s; $slices slices of ${SLICE}s at delay ${DELAY} ms (table above); toyapp RSS now $(rss_mb) MB"

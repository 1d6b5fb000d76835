#!/usr/bin/env bash
# Integration test of toy-mockapi, the mock TikTok API, over real HTTP on
# 127.0.0.1. Usage: tests/integration/test_mockapi.sh
#   MOCKAPI_BIN: the binary (default build/toy-mockapi under the repository).
# The server takes a free port (--port 0) and the test reads which one from
# its listening line. Any output on the server's stderr fails the run: that
# is where sanitizer reports and lws errors go. The last line is
# "N passed, M failed"; the exit status is non-zero on any failure.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${MOCKAPI_BIN:-$ROOT/build/toy-mockapi}
TOKEN="test-token-$$"
START_SECONDS=5 # for the listening line
STOP_SECONDS=2  # for the exit after SIGTERM
KEEPALIVE_N=200

passed=0 failed=0
start_time=$SECONDS

ok() { passed=$((passed + 1)); printf 'ok    %s\n' "$1"; }
fail() { failed=$((failed + 1)); printf 'FAIL  %s\n' "$1"; [[ -z ${2:-} ]] || printf '%s\n' "$2" | sed 's/^/      /' | tail -n 12; }
check() { if [[ $2 == "$3" ]]; then ok "$1"; else fail "$1" "want: $3"$'\n'"got:  $2"; fi; }
finish() {
    printf 'elapsed: %ss\n' $((SECONDS - start_time))
    printf '%s passed, %s failed\n' "$passed" "$failed"
    [[ $failed -eq 0 ]]
    exit
}

for tool in curl python3; do
    command -v "$tool" >/dev/null || { fail "$tool is installed"; finish; }
done
[[ -x $BIN ]] || { fail "$BIN is an executable (set MOCKAPI_BIN)"; finish; }

DIR=$(mktemp -d "${TMPDIR:-/tmp}/toy-mockapi-test.XXXXXX")
pid=
# shellcheck disable=SC2317 # run through the trap
cleanup() {
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    rm -rf -- "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- bad configuration is refused before listening ------------------------
"$BIN" --port nope >/dev/null 2>&1
check "--port nope exits 2" "$?" 2
MOCK_API_TOKEN='' "$BIN" --port 0 >/dev/null 2>&1
check "an empty MOCK_API_TOKEN exits 2" "$?" 2

# ---- start ------------------------------------------------------------------
# The token comes from the environment; the bogus MOCK_API_PORT shows that
# the options override it.
MOCK_API_TOKEN=$TOKEN MOCK_API_PORT=bogus "$BIN" --port 0 --host 127.0.0.1 \
    >"$DIR/stdout" 2>"$DIR/stderr" &
pid=$!
port=
for ((i = 0; i < START_SECONDS * 10; i++)); do
    port=$(sed -n 's|^toy-mockapi listening on http://127\.0\.0\.1:\([0-9][0-9]*\)$|\1|p' "$DIR/stdout")
    [[ -n $port ]] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
if [[ -z $port ]]; then
    fail "server prints its listening line within ${START_SECONDS}s" "$(cat "$DIR/stdout" "$DIR/stderr")"
    finish
fi
ok "server listening on 127.0.0.1:$port"
BASE=http://127.0.0.1:$port

# req OUT_PREFIX CURL_ARGS...: one request; prints the status code, leaves
# the body in OUT_PREFIX.body and the headers in OUT_PREFIX.hdr.
req() {
    local out=$1
    shift
    curl -sS --noproxy '*' --max-time 5 -o "$DIR/$out.body" -D "$DIR/$out.hdr" -w '%{http_code}' "$@"
}
# header OUT_PREFIX NAME: the value of a response header, trimmed.
header() { sed -n "s/^$2: *\\(.*\\)\$/\\1/Ip" "$DIR/$1.hdr" | tr -d '\r' | head -1; }
# json OUT_PREFIX PYTHON_EXPR: evaluates the expression with the parsed
# body as `j`; prints its value, or "invalid JSON: ...".
json() {
    python3 -S -c '
import json, sys
try:
    j = json.load(open(sys.argv[1]))
except Exception as e:
    print("invalid JSON:", e); sys.exit(0)
print(eval(sys.argv[2]))' "$DIR/$1.body" "$2"
}
# stats_is WANT: /stats as "wh dm unauthorized not_found total".
stats_is() {
    local code got
    code=$(req stats "$BASE/stats")
    got=$(json stats '" ".join(str(j[k]) for k in ("watch_history","direct_messages","unauthorized","not_found","total")) if sorted(j) == sorted(("watch_history","direct_messages","unauthorized","not_found","total")) else "keys: " + ",".join(sorted(j))')
    check "$1" "$code $got" "200 $2"
}
AUTH="Authorization: Bearer $TOKEN"

stats_is "/stats starts at zero (no auth needed)" "0 0 0 0 0"

# ---- the safe endpoint ------------------------------------------------------
code=$(req wh -H "$AUTH" "$BASE/api/watch_history")
check "watch_history with the token: 200" "$code" 200
check "watch_history: Content-Type application/json" "$(header wh content-type)" "application/json"
check "watch_history: Content-Length matches the body" "$(header wh content-length)" "$(wc -c <"$DIR/wh.body" | tr -d ' ')"
shape=$(json wh '"ok" if list(j) == ["items"] and isinstance(j["items"], list) and len(j["items"]) >= 3 and all(isinstance(i, dict) and sorted(i) == ["category","title","videoId","watchedAt"] and all(isinstance(v, str) and v for v in i.values()) for i in j["items"]) and j["items"][0]["videoId"] == "v1" and all(i["watchedAt"].startswith("2026-") for i in j["items"]) else json.dumps(j)[:300]')
check "watch_history: {items:[{videoId,title,category,watchedAt}...]}, all strings" "$shape" ok
code=$(req wh2 -H "authorization: bearer $TOKEN" "$BASE/api/watch_history")
check "watch_history again (scheme case-insensitive): 200" "$code" 200
if cmp -s "$DIR/wh.body" "$DIR/wh2.body"; then ok "watch_history is deterministic"; else fail "watch_history is deterministic"; fi

code=$(req noauth "$BASE/api/watch_history")
check "watch_history without a token: 401" "$code" 401
check "401 body is {error:unauthorized,message}" "$(json noauth 'j.get("error") == "unauthorized" and isinstance(j.get("message"), str)')" True
check "401 carries WWW-Authenticate: Bearer" "$(header noauth www-authenticate)" Bearer
code=$(req badauth -H "Authorization: Bearer $TOKEN-x" "$BASE/api/watch_history")
check "watch_history with a wrong token: 401" "$code" 401
code=$(req badauth2 -H "Authorization: Basic $TOKEN" "$BASE/api/watch_history")
check "watch_history with another auth scheme: 401" "$code" 401

# ---- the sensitive endpoint -------------------------------------------------
code=$(req dm -H "$AUTH" "$BASE/api/direct_messages")
check "direct_messages with the token: 200" "$code" 200
check "direct_messages: a JSON list of messages" "$(json dm 'isinstance(j.get("messages"), list) and len(j["messages"]) > 0')" True
code=$(req dmnoauth "$BASE/api/direct_messages")
check "direct_messages without a token: 401" "$code" 401

# 5 to watch_history (3 refused), 2 to direct_messages (1 refused).
stats_is "/stats counts every call by path, 401s apart too" "5 2 4 0 7"

# ---- everything else -------------------------------------------------------
code=$(req nf -H "$AUTH" "$BASE/api/nope")
check "unknown path: 404" "$code" 404
check "404 body is {error:not_found,message} JSON" "$(header nf content-type) $(json nf 'j.get("error")')" "application/json not_found"
code=$(req post -H "$AUTH" -X POST --data 'x=1' "$BASE/api/watch_history")
check "POST /api/watch_history: 405" "$code" 405
check "405 carries Allow: GET" "$(header post allow)" GET
check "405 body is {error:method_not_allowed} JSON" "$(json post 'j.get("error")')" method_not_allowed
# A body after a HEAD response would be read as the start of the next
# response: the second request must reuse the connection and parse.
got=$(curl -sS --noproxy '*' --max-time 5 -H "$AUTH" -I -o /dev/null -w '%{http_code} %{num_connects}\n' \
    "$BASE/api/direct_messages" --next -o /dev/null -w '%{http_code} %{num_connects}\n' "$BASE/stats" 2>&1)
check "HEAD /api/direct_messages: 405 without a body, connection reusable" "$(tr -s '\n' ' ' <<<"$got" | sed 's/ $//')" "405 1 200 0"

# The POST and the HEAD still count against their paths.
stats_is "/stats after 404, 405s" "6 3 4 1 10"

# ---- keep-alive -------------------------------------------------------------
urls=()
# -o applies to one URL each.
for ((i = 0; i < KEEPALIVE_N; i++)); do urls+=(-o /dev/null "$BASE/api/watch_history"); done
curl -sS --noproxy '*' --max-time 30 -H "$AUTH" -w '%{http_code} %{num_connects}\n' "${urls[@]}" \
    >"$DIR/ka" 2>"$DIR/ka.err"
n200=$(grep -c '^200 ' "$DIR/ka")
conns=$(awk '{ n += $2 } END { print n + 0 }' "$DIR/ka")
check "$KEEPALIVE_N sequential requests in one curl: all 200" "$n200" "$KEEPALIVE_N"
check "... over one kept-alive connection" "$conns" 1
stats_is "/stats counts the $KEEPALIVE_N" "$((6 + KEEPALIVE_N)) 3 4 1 $((10 + KEEPALIVE_N))"

# ---- shutdown ---------------------------------------------------------------
kill -TERM "$pid"
for ((i = 0; i < STOP_SECONDS * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
    fail "SIGTERM: exits within ${STOP_SECONDS}s"
else
    wait "$pid"
    check "SIGTERM: exits 0 within ${STOP_SECONDS}s" "$?" 0
    pid=
fi
if [[ -s $DIR/stderr ]]; then
    fail "server stderr is empty (no sanitizer reports, no lws errors)" "$(cat "$DIR/stderr")"
else
    ok "server stderr is empty"
fi

finish

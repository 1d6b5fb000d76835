#!/usr/bin/env bash
# The trust boundary, checked on the object files rather than by grep:
# only allowlisted objects may reference the calls that open outbound
# connections.  The allowlist, and why each entry is on it:
#   src/toyapp/mockclient.o     the mock TikTok API client (safe endpoint only)
#   src/toyapp/db.o             libpq connection setup (primary and replica)
#   runtime/rt_tee_dstack.o     the dstack guest agent's Unix socket
#   runtime/rt_rpc.o            the chain node's JSON-RPC (deletion and app registries)
#   src/toyctl/fetch.o          toyctl compare-instances: GET of the metadata ports
# Anything else that references one of these symbols fails the test.  The
# objects read: toyapp's, the metadata code and toy-attestd's (the Postgres
# CVMs' sidecar makes no outbound call but the dstack socket's, through
# rt_tee_dstack.o), toyctl's, the runtime's and the generated code's.
set -uo pipefail
BUILD=${BUILD:-build}
cd "$(dirname "$0")/../.." || exit 1

allow=" src/toyapp/mockclient.o src/toyapp/db.o runtime/rt_tee_dstack.o runtime/rt_rpc.o src/toyctl/fetch.o "
calls='connect|socket|getaddrinfo|gethostbyname|sendto|sendmsg|PQconnectdb|PQconnectdbParams|PQconnectStart|PQconnectStartParams|PQsetdbLogin|lws_client_connect_via_info|curl_easy_perform'
passed=0 failed=0
for o in "$BUILD"/src/toyapp/*.o "$BUILD"/src/meta/*.o "$BUILD"/src/toy-attestd/*.o "$BUILD"/src/toyctl/*.o \
    "$BUILD"/runtime/*.o "$BUILD"/gen/*.o; do
    rel=${o#"$BUILD"/}
    refs=$(nm -u "$o" | awk '{print $2}' | grep -xE "$calls" | tr '\n' ' ')
    if [ -z "$refs" ] || [[ $allow == *" $rel "* ]]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL $rel references $refs but is not on the outbound allowlist"
    fi
done
# The allowlist is not stale: each entry exists and does make such a call.
for rel in $allow; do
    if [ -f "$BUILD/$rel" ] && nm -u "$BUILD/$rel" | awk '{print $2}' | grep -qxE "$calls"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL allowlisted $rel is missing or makes no outbound call"
    fi
done
# The mock client can only ask for the safe endpoint.
if strings "$BUILD/src/toyapp/mockclient.o" | grep -q direct_messages; then
    failed=$((failed + 1)); echo "FAIL mockclient.o mentions direct_messages"
else
    passed=$((passed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

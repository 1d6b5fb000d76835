#!/usr/bin/env bash
# Integration test of the chain side: a real anvil (scripts/chain.sh) and a
# real Postgres (postgres/cluster.sh), both on 127.0.0.1, started and
# stopped here.  The poster (src/toyapp/poster.c, driven by chain_driver)
# posts outbox rows written as toyapp writes them; toyctl verifies them on
# chain; ethers (tests/chain/ethers_check.js) decodes the same transactions
# and events independently.  Faults: the chain stopped during 50
# deletions, the poster killed -9 between sending and recording (the
# transaction then mined, or dropped), a database that lost records, a
# reverted transaction, two posters at once, a new leader handing over what
# the killed one recorded but did not log; the sim provider's KMS gate
# with toyapp itself.  The last line is "N passed, M failed".
# shellcheck disable=SC2034,SC2016 # `check` evals its expression: single-quoted, reading variables set here
# shellcheck disable=SC2317 # cleanup and helpers run through trap and check
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
BUILD=${BUILD:-build}
DRIVER=$ROOT/$BUILD/chain_driver
TOYCTL=$ROOT/$BUILD/toyctl
TOYAPP=$ROOT/$BUILD/toyapp
export BUILD TOYCTL
CHECK=(node "$ROOT/tests/chain/ethers_check.js")

passed=0 failed=0
start_time=$SECONDS
ok() { passed=$((passed + 1)); printf 'ok    %s\n' "$1"; }
fail() { failed=$((failed + 1)); printf 'FAIL  %s\n' "$1"; [[ -z ${2:-} ]] || printf '%s\n' "$2" | sed 's/^/      /' | tail -n 15; }
check() { if eval "$2"; then ok "$1"; else fail "$1" "${3:-}"; fi; }
finish() {
    printf 'elapsed: %ss\n' $((SECONDS - start_time))
    printf '%s passed, %s failed\n' "$passed" "$failed"
    [[ $failed -eq 0 ]]
    exit
}

for b in "$DRIVER" "$TOYCTL" "$TOYAPP"; do
    [[ -x $b ]] || { fail "$b is built" "make $BUILD/${b##*/}"; finish; }
done
command -v node >/dev/null || { fail "node is installed"; finish; }

free_port() {  # free_port FROM: the first port >= FROM nothing listens on
    local p
    for ((p = $1; p < 32700; p++)); do
        ss -ltnH "( sport = :$p )" | grep -q . || { echo "$p"; return; }
    done
}
base=$((21000 + $$ % 3000 * 3))
PG_PRIMARY_PORT=$(free_port "$base")
PG_REPLICA_PORT=$(free_port $((PG_PRIMARY_PORT + 1)))
CHAIN_PORT=$(free_port $((PG_REPLICA_PORT + 1)))
export PG_PRIMARY_PORT PG_REPLICA_PORT CHAIN_PORT
API_PORT=$(free_port $((CHAIN_PORT + 1)))
META_PORT=$(free_port $((API_PORT + 1)))
export PG_WAIT_SECONDS=30 PGCONNECT_TIMEOUT=5

DIR=$(mktemp -d "${TMPDIR:-/tmp}/toyapp-chain-test.XXXXXX")
chmod 0755 "$DIR"
pids=()
cleanup() {
    for p in "${pids[@]}"; do { kill -KILL "$p" && wait "$p"; } 2>/dev/null; done
    scripts/chain.sh stop "$DIR/chain" >/dev/null 2>&1
    timeout 120 postgres/cluster.sh stop "$DIR/pg" >/dev/null 2>&1
    rm -rf -- "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

sql() { timeout 20 psql "$DATABASE_URL" -X -q -t -A -v ON_ERROR_STOP=1 -c "$1" 2>&1; }
wait_sql() {  # wait_sql QUERY WANT SECONDS
    local deadline=$((SECONDS + $3))
    until [[ $(sql "$1") == "$2" ]]; do
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
}
rpc() {  # rpc METHOD PARAMS: the raw JSON answer
    curl -s --max-time 5 -X POST -H 'Content-Type: application/json' \
        -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":$2}" "$CHAIN_RPC_URL"
}
events() { "${CHECK[@]}" count "$CHAIN_RPC_URL" "$CHAIN_DELETION_REGISTRY" | sed -n 's/{"events":\([0-9]*\),"distinct":\([0-9]*\)}/\1 \2/p'; }
posted_count() { grep -c "^posted $2" "$1"; }   # posted_count FILE PREFIX
# Rows written as toyapp writes them; toyapp got its keys when it started,
# so the writing does not depend on the chain (the KMS gate is off here).
enqueue() { CHAIN=off "$DRIVER" enqueue "$1" "$2" >/dev/null; }
recorded() { sql "SELECT count(*) FROM deletion_outbox WHERE block_number IS NOT NULL"; }
# want N: the recorded count once N more rows are recorded
want() { echo $(($(recorded) + $1)); }
run_bg() {  # run_bg OUT ARGS...: the driver in the background
    local out=$1
    shift
    "$DRIVER" run "$@" >"$out" 2>&1 &
    pids+=("$!")
    BG=$!
}
wait_pending() {  # until the node's pool holds a transaction (automine off)
    local deadline=$((SECONDS + 20))
    until rpc txpool_status '[]' | grep -q '"pending":"0x[1-9]'; do
        ((SECONDS < deadline)) || return 1
        sleep 0.1
    done
}

echo "chain test in $DIR: Postgres $PG_PRIMARY_PORT, chain $CHAIN_PORT"

# ---- set up -------------------------------------------------------------------
if out=$(timeout 180 postgres/cluster.sh init "$DIR/pg" 2>&1); then ok "Postgres started"; else fail "Postgres started" "$out"; finish; fi
eval "$(postgres/cluster.sh env "$DIR/pg" | sed 's/^/export /')"
if out=$(scripts/chain.sh init "$DIR/chain" 2>&1); then ok "chain.sh init: anvil started, contracts deployed"; else fail "chain.sh init" "$out"; finish; fi
eval "$(scripts/chain.sh env "$DIR/chain" | sed 's/^/export /')"
check "the chain listens on 127.0.0.1 only" \
    '[[ $(ss -ltnH "( sport = :$CHAIN_PORT )" | awk "{print \$4}" | sort -u) == 127.0.0.1:$CHAIN_PORT ]]'
out=$(scripts/chain.sh init "$DIR/chain" 2>&1)
check "chain.sh init again changes nothing" '[[ $out == *"already running"* && $out == *"contracts present"* ]]' "$out"
export TEE_SIM_SEED=$DIR/seed APP_ID=toyapp-chain-test
out=$(scripts/chain.sh register "$DIR/chain" 1.0.0 2>&1)
ENCLAVE=$("$TOYCTL" tee-info --keys | sed -n 's/^enclaveAddress=//p')
OPERATOR=$("$TOYCTL" address --key-file "$CHAIN_OPERATOR_KEY_FILE")
check "chain.sh register: the compose hash and the enclave address" \
    '[[ $out == *"registered compose hash"* && $out == *"registered enclave $ENCLAVE"* ]]' "$out"
"$DRIVER" migrate >/dev/null 2>&1 || { fail "migrations"; finish; }
export POSTER_RECEIPT_WAIT_MS=3000

# ---- the ethers differential test ---------------------------------------------------
"$DRIVER" txgen 300 $((RANDOM + 1)) >"$DIR/tx.jsonl"
out=$("${CHECK[@]}" txcheck "$DIR/tx.jsonl" 2>&1)
check "300 random signed transactions and Keccak-256 inputs: ethers finds the same hash, sender and fields" \
    '[[ $out == "300 transactions and 300 Keccak-256 digests agree"* ]]' "$out"

# ---- post and verify ------------------------------------------------------------
enqueue 3 basic
out=$("$DRIVER" run 30 "$(want 3)" 2>&1)
check "3 deletions posted and recorded" '[[ $(posted_count <(echo "$out") basic-) == 3 ]]' "$out"
v=$("$TOYCTL" verify-deletion basic-2 --rpc "$CHAIN_RPC_URL" --registry "$CHAIN_DELETION_REGISTRY")
rc=$?
tx=$(grep "^posted basic-2 " <<<"$out" | awk '{print $3}')
check "toyctl verify-deletion finds and verifies the record, and prints its transaction" \
    '[[ $rc == 0 && -n $tx && $v == *"transaction $tx"* && $v == *"verified: all"* ]]' "$v"
e=$("${CHECK[@]}" record "$CHAIN_RPC_URL" "$CHAIN_DELETION_REGISTRY" basic-2)
jfield() { sed -n "s/.*\"$1\":\"\\{0,1\\}\\([^\",}]*\\).*/\\1/p" <<<"$e"; }
blk=$(sed -n 's/^ok   record: .*: block \([0-9]*\) .*/\1/p' <<<"$v")
canon=$(sed -n 's/^ok   attestation: Ed25519 signature .*: \({.*}\)$/\1/p' <<<"$v")
check "ethers decodes the same event and transaction: hash, block, sender, fields, and the signature verifies" \
    '[[ $(jfield txHash) == "$tx" && $(jfield blockNumber) == "$blk" && $(jfield from) == "$ENCLAVE" &&
        $(jfield signatureValid) == true && $canon == *"\"userIdHash\":\"$(jfield userIdHash)\""* &&
        $canon == *"\"deletionTimestamp\":\"$(jfield deletionTimestamp)\""* &&
        $canon == *"\"composeHash\":\"$(jfield composeHash)\""* && $canon == *"\"signature\":\"$(jfield signature)\""* &&
        $v == *"recovers its sender ($ENCLAVE)"* ]]' "$e
$v"
pub=$(jfield publicKey)
v=$("$TOYCTL" verify-deletion basic-2 --rpc "$CHAIN_RPC_URL" --registry "$CHAIN_DELETION_REGISTRY" --pubkey "$pub")
check "verify-deletion --pubkey with the enclave's key passes" '[[ $? == 0 ]]' "$v"
# Another key: the first hex digit changed (to f, or to 0 when it is f).
other=f
[[ ${pub:0:1} == f ]] && other=0
v=$("$TOYCTL" verify-deletion basic-2 --rpc "$CHAIN_RPC_URL" --registry "$CHAIN_DELETION_REGISTRY" --pubkey "$other${pub:1}")
rc=$?
check "verify-deletion --pubkey with another key fails" '[[ $rc == 1 && $v == *"FAIL attestation: publicKey is the key given with --pubkey"* ]]' "$v"
v=$("$TOYCTL" verify-deletion nobody-1 --rpc "$CHAIN_RPC_URL" --registry "$CHAIN_DELETION_REGISTRY")
check "verify-deletion of an unknown receipt fails" '[[ $? == 1 && $v == *"no record"* ]]' "$v"
v=$("$TOYCTL" verify-deletion basic-2 --rpc "$CHAIN_RPC_URL" --registry "$CHAIN_APP_REGISTRY")
check "verify-deletion against another contract fails" '[[ $? == 1 && $v == *"not this repository'"'"'s DeletionRegistry"* ]]' "$v"
v=$("$TOYCTL" verify-deletion basic-2 --rpc "$CHAIN_RPC_URL" --registry 0x000000000000000000000000000000000000dEaD)
check "verify-deletion against an address without a contract fails" '[[ $? == 1 && $v == *"no contract at that address"* ]]' "$v"
v=$("$TOYCTL" verify-deletion basic-2 --rpc "http://127.0.0.1:$API_PORT" --registry "$CHAIN_DELETION_REGISTRY")
check "verify-deletion with no node at the URL fails and says so" '[[ $? == 1 && $v == *"FAIL chain: the node answers"* ]]' "$v"

# The same over TLS: an HTTPS front with a certificate of our own.
TLS_PORT=$(free_port $((META_PORT + 1)))
if openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$DIR/tls.key" -out "$DIR/tls.pem" >/dev/null 2>&1; then
    node tests/chain/tls_proxy.js "$TLS_PORT" "$DIR/tls.pem" "$DIR/tls.key" "$CHAIN_RPC_URL" >"$DIR/tls.log" 2>&1 &
    pids+=("$!")
    for _ in $(seq 50); do grep -q listening "$DIR/tls.log" && break; sleep 0.1; done
    v=$("$TOYCTL" verify-deletion basic-2 --rpc "https://127.0.0.1:$TLS_PORT" --registry "$CHAIN_DELETION_REGISTRY" \
        --ca-file "$DIR/tls.pem")
    check "verify-deletion over https, the node's certificate checked against --ca-file" '[[ $? == 0 ]]' "$v"
    v=$("$TOYCTL" verify-deletion basic-2 --rpc "https://127.0.0.1:$TLS_PORT" --registry "$CHAIN_DELETION_REGISTRY")
    check "... and refused without it: the certificate is not one the system trusts" \
        '[[ $? == 1 && $v == *"TLS handshake failed"*"certificate"* ]]' "$v"
else
    fail "openssl makes a test certificate"
fi

# A tampered record: the operator makes itself the enclave and posts a
# genuine attestation with one byte of its userIdHash changed.
"$TOYCTL" register-enclave "$OPERATOR" --rpc "$CHAIN_RPC_URL" --registry "$CHAIN_DELETION_REGISTRY" \
    --key-file "$CHAIN_OPERATOR_KEY_FILE" >/dev/null 2>&1
out=$("${CHECK[@]}" forge "$CHAIN_RPC_URL" "$CHAIN_DELETION_REGISTRY" "$CHAIN_OPERATOR_KEY_FILE" forged-1 basic-1 2>&1)
"$TOYCTL" register-enclave "$ENCLAVE" --rpc "$CHAIN_RPC_URL" --registry "$CHAIN_DELETION_REGISTRY" \
    --key-file "$CHAIN_OPERATOR_KEY_FILE" >/dev/null 2>&1
v=$("$TOYCTL" verify-deletion forged-1 --rpc "$CHAIN_RPC_URL" --registry "$CHAIN_DELETION_REGISTRY")
check "verify-deletion of a tampered record fails on its signature" \
    '[[ $? == 1 && $v == *"FAIL attestation: Ed25519 signature"*"does not verify"* ]]' "$out
$v"
read -r ev0 dist0 <<<"$(events)"

# ---- the chain stopped during 50 deletions -------------------------------------------
run_bg "$DIR/run50.out" 60 "$(want 50)"
for i in $(seq 1 10); do
    enqueue 5 "down$i"
    [[ $i == 4 ]] && scripts/chain.sh stop "$DIR/chain" >/dev/null
    [[ $i == 8 ]] && scripts/chain.sh start "$DIR/chain" >/dev/null
    sleep 0.3
done
wait "$BG"
rc=$?
read -r ev1 dist1 <<<"$(events)"
out=$(cat "$DIR/run50.out")
check "the chain stopped during 50 deletions and started again: the poster saw it down and carried on" \
    '[[ $rc == 0 && $out == *"fault: chain"* ]]' "$(tail -n 8 <<<"$out")"
check "... exactly 50 records on chain, all distinct" '[[ $((ev1 - ev0)) == 50 && $((dist1 - dist0)) == 50 && $ev1 == $dist1 ]]' \
    "events $ev0 -> $ev1, distinct $dist0 -> $dist1"
check "... 50 handed to the log once each, in the outbox with their transaction and block" \
    '[[ $(grep "^posted down" <<<"$out" | awk "{print \$2}" | sort -u | wc -l) == 50 && $out != *DUPLICATE* &&
        $(sql "SELECT count(*) FROM deletion_outbox WHERE receipt_id LIKE '"'"'down%'"'"' AND tx_hash IS NOT NULL AND block_number > 0") == 50 ]]' \
    "$(tail -n 5 <<<"$out")"

# ---- killed -9 between sending and recording -----------------------------------------
# kill_between PREFIX THEN: with mining off, 10 rows are sent and the poster
# is killed -9 before their receipt; THEN runs (it mines the transaction, or
# drops it from the pool), mining resumes, and a new poster runs to the end.
# Sets: inflight (rows in flight after the kill), stored (the stored
# transaction's hash), out (the new poster's output), added (new records).
kill_between() {
    local prefix=$1 then=$2 w e0 e1
    read -r e0 _ <<<"$(events)"
    rpc evm_setAutomine '[false]' >/dev/null
    w=$(want 10)
    enqueue 10 "$prefix"
    POSTER_RECEIPT_WAIT_MS=60000 run_bg "$DIR/$prefix.out" 60
    if ! wait_pending; then
        rpc evm_setAutomine '[true]' >/dev/null
        return 1
    fi
    { kill -KILL "$BG" && wait "$BG"; } 2>/dev/null
    inflight=$(sql "SELECT count(*) FROM deletion_outbox WHERE receipt_id LIKE '$prefix-%' AND chain_tx IS NOT NULL")
    stored=$(sql "SELECT tx_hash FROM chain_txs WHERE outcome IS NULL")
    rpc "$then" '[]' >/dev/null
    rpc evm_setAutomine '[true]' >/dev/null
    out=$("$DRIVER" run 30 "$w" 2>&1)
    read -r e1 _ <<<"$(events)"
    added=$((e1 - e0))
}
once_each() {  # once_each PREFIX: each of the 10 rows handed to the log once, 10 new records
    [[ $(posted_count <(echo "$out") "$1-") == 10 && $out != *DUPLICATE* && $added == 10 ]]
}
if kill_between kill evm_mine; then
    check "killed -9 after sending (10 in flight), the transaction then mined: a restart records each once" \
        '[[ $inflight == 10 ]] && once_each kill' "in flight $inflight, added $added
$out"
else
    fail "killed -9 after sending: the transaction reached the node's pool"
fi
if kill_between drop anvil_dropAllTransactions; then
    check "killed -9 after sending, the transaction then dropped: a restart sends the same bytes again, records each once" \
        '[[ -n $stored && $out == *"was not in the node'"'"'s pool: sent the same bytes again"* &&
            $(sql "SELECT count(DISTINCT tx_hash) || '"'"' '"'"' || min(tx_hash) FROM deletion_outbox WHERE receipt_id LIKE '"'"'drop-%'"'"'") == "1 $stored" ]] &&
            once_each drop' "stored $stored, added $added
$out"
else
    fail "killed -9 after sending (dropped): the transaction reached the node's pool"
fi
read -r ev3 _ <<<"$(events)"

# ---- a stuck transaction is replaced with higher fees -------------------------------------
rpc evm_setAutomine '[false]' >/dev/null
w=$(want 5)
enqueue 5 stuck
POSTER_STUCK_MS=1500 POSTER_RECEIPT_WAIT_MS=300 run_bg "$DIR/stuck.out" 60 "$w"
if wait_sql "SELECT count(*) FROM chain_txs WHERE outcome IS NULL" 2 20; then
    rpc evm_mine '[]' >/dev/null
    rpc evm_setAutomine '[true]' >/dev/null
    wait "$BG"
    rc=$?
    out=$(cat "$DIR/stuck.out")
    read -r e _ <<<"$(events)"
    check "a transaction stuck in the pool is replaced (same nonce, 25% higher fees); the replacement records each once" \
        '[[ $rc == 0 && $out == *"stuck for"*"sent again as"* && $(posted_count <(echo "$out") stuck-) == 5 &&
            $out != *DUPLICATE* && $((e - ev3)) == 5 &&
            $(sql "SELECT string_agg(outcome, '"'"' '"'"' ORDER BY outcome) FROM chain_txs WHERE nonce = (SELECT max(nonce) FROM chain_txs)") == "recorded replaced" ]]' \
        "$out
$(sql "SELECT nonce, outcome, tx_hash FROM chain_txs ORDER BY id DESC LIMIT 3")"
else
    rpc evm_setAutomine '[true]' >/dev/null
    wait "$BG"
    fail "a stuck transaction is sent again with higher fees" "$(cat "$DIR/stuck.out")"
fi
read -r ev3 _ <<<"$(events)"

# ---- a database that lost records: the resend finds the first record --------------
first=$(sql "SELECT tx_hash FROM deletion_outbox WHERE receipt_id = 'down1-1'")
sql "UPDATE deletion_outbox SET tx_hash = NULL, block_number = NULL, posted_audit_id = NULL
     WHERE receipt_id IN ('down1-1', 'down1-2'); UPDATE deletion_outbox SET posted_audit_id = NULL
     WHERE receipt_id = 'down2-1'" >/dev/null
out=$("$DRIVER" run 30 "$(want 2)" 2>&1)
read -r ev4 _ <<<"$(events)"
check "rows that lost their record are sent again: nothing recorded twice, the first record found" \
    '[[ $((ev4 - ev3)) == 0 && $(sql "SELECT tx_hash FROM deletion_outbox WHERE receipt_id = '"'"'down1-1'"'"'") == "$first" &&
        $(sql "SELECT detail FROM chain_txs ORDER BY id DESC LIMIT 1") == "0 recorded by it, 2 recorded before, 0 back to the queue" ]]' \
    "events $ev3 -> $ev4, first $first
$out"
check "rows recorded but not logged (a crash before the entries) are handed to the log again, once" \
    '[[ $(grep -c "^posted down1-1 $first" <<<"$out") == 1 && $(grep -c "^posted down2-1 " <<<"$out") == 1 &&
        $(grep -c "^posted " <<<"$out") == 3 && $out != *DUPLICATE* ]]' "$out"

# ---- a reverted transaction is reported and retried ------------------------------------
"$TOYCTL" register-enclave "$OPERATOR" --rpc "$CHAIN_RPC_URL" --registry "$CHAIN_DELETION_REGISTRY" \
    --key-file "$CHAIN_OPERATOR_KEY_FILE" >/dev/null 2>&1
w=$(want 5)
enqueue 5 rev
CHAIN_GAS_PER_RECORD=40000 run_bg "$DIR/rev.out" 60 "$w"
if wait_sql "SELECT count(*) > 0 FROM chain_txs WHERE outcome = 'reverted'" t 20; then
    rtx=$(sql "SELECT tx_hash FROM chain_txs WHERE outcome = 'reverted' LIMIT 1")
    err=$(sql "SELECT last_error FROM deletion_outbox WHERE receipt_id = 'rev-1'")
    status=$(rpc eth_getTransactionReceipt "[\"$rtx\"]" | grep -o '"status":"0x[01]"')
    "$TOYCTL" register-enclave "$ENCLAVE" --rpc "$CHAIN_RPC_URL" --registry "$CHAIN_DELETION_REGISTRY" \
        --key-file "$CHAIN_OPERATOR_KEY_FILE" >/dev/null 2>&1
    wait "$BG"
    rc=$?
    out=$(cat "$DIR/rev.out")
    read -r ev5 _ <<<"$(events)"
    check "a reverted transaction is on chain (status 0) and reported with its reason" \
        '[[ $status == "\"status\":\"0x0\"" && $err == *"reverted in block"*"NotEnclave($ENCLAVE)"* &&
            $out == *"log: transaction $rtx reverted"*"go back to the queue"* ]]' "$status $err
$out"
    check "... and retried with backoff until recorded, once each" \
        '[[ $rc == 0 && $(posted_count <(echo "$out") rev-) == 5 && $((ev5 - ev4)) == 5 &&
            $(sql "SELECT min(attempts) >= 2 FROM deletion_outbox WHERE receipt_id LIKE '"'"'rev-%'"'"'") == t ]]' "$out"
else
    fail "a transaction from an unregistered enclave reverts on chain" "$(cat "$DIR/rev.out")"
    "$TOYCTL" register-enclave "$ENCLAVE" --rpc "$CHAIN_RPC_URL" --registry "$CHAIN_DELETION_REGISTRY" \
        --key-file "$CHAIN_OPERATOR_KEY_FILE" >/dev/null 2>&1
fi
"$TOYCTL" register-enclave "$OPERATOR" --rpc "$CHAIN_RPC_URL" --registry "$CHAIN_DELETION_REGISTRY" \
    --key-file "$CHAIN_OPERATOR_KEY_FILE" >/dev/null 2>&1
enqueue 2 est
txs=$(sql "SELECT count(*) FROM chain_txs")
out=$("$DRIVER" run 2 2>&1)
check "with gas estimation, a call that would revert is reported and nothing is sent" \
    '[[ $out == *"would revert: NotEnclave($ENCLAVE)"* && $(sql "SELECT count(*) FROM chain_txs") == "$txs" ]]' "$out"
"$TOYCTL" register-enclave "$ENCLAVE" --rpc "$CHAIN_RPC_URL" --registry "$CHAIN_DELETION_REGISTRY" \
    --key-file "$CHAIN_OPERATOR_KEY_FILE" >/dev/null 2>&1
out=$("$DRIVER" run 20 "$(want 2)" 2>&1)
check "... and posted once the enclave is registered" '[[ $(posted_count <(echo "$out") est-) == 2 ]]' "$out"
read -r ev6 _ <<<"$(events)"

# ---- two posters at once, the leader killed -9 ------------------------------------------
w=$(want 40)
run_bg "$DIR/twoA.out" 60 "$w"
A=$BG
run_bg "$DIR/twoB.out" 60 "$w"
B=$BG
for i in $(seq 1 8); do
    enqueue 5 "two$i"
    if [[ $i == 4 ]]; then
        leader=$B
        grep -q "^log: posting" "$DIR/twoA.out" && leader=$A
        { kill -KILL "$leader"; wait "$leader"; } 2>/dev/null
    fi
    sleep 0.3
done
other=$A
[[ $leader == "$A" ]] && other=$B
wait "$other"
rc=$?
read -r ev7 dist7 <<<"$(events)"
both=$(cat "$DIR/twoA.out" "$DIR/twoB.out")
# Handing a row to the log is at least once, marking it logged exactly once
# (what the database says, not what the drivers printed: a driver killed -9
# can commit its last hand-over and die before printing it).  The killed
# leader's last hand-over (its own connection) may also commit after its
# lock (another connection) is gone and the new leader has read the row as
# unlogged: the new leader's hand-over then changes nothing (DUPLICATE), as
# the service's writer's guard (posted_audit_id IS NULL) does.
logged7=$(sql "SELECT count(*) FROM deletion_outbox WHERE receipt_id LIKE 'two%' AND block_number IS NOT NULL AND posted_audit_id IS NOT NULL")
check "two posters, one lock: the leader killed -9, the other took over; 40 recorded once each, each marked logged once" \
    '[[ $rc == 0 && $(grep -c "^log: posting" <<<"$both") == 2 && $logged7 == 40 && $((ev7 - ev6)) == 40 && $ev7 == $dist7 ]]' "events $ev6 -> $ev7, rows recorded and logged $logged7
$(tail -n 4 "$DIR/twoA.out") $(tail -n 4 "$DIR/twoB.out")"
check "no nonce was used by two transactions that reached the chain" \
    '[[ $(sql "SELECT count(*) FROM (SELECT nonce FROM chain_txs WHERE outcome IN ('"'"'recorded'"'"', '"'"'reverted'"'"') GROUP BY sender, nonce HAVING count(*) > 1) x") == 0 ]]'
check "every outbox row is recorded, none rejected, none in flight" \
    '[[ $(sql "SELECT count(*) FILTER (WHERE block_number IS NULL OR chain_tx IS NOT NULL OR rejected) FROM deletion_outbox") == 0 ]]'

# ---- a new leader hands over what the one before recorded but did not log -------------
# As if the leader had died between its round's commit and its hand-over:
# three rows recorded on chain with posted_audit_id null again, set while
# A leads, once A has posted a row (so its own hand-over on taking the lock,
# which comes first in that round, is over) and after B has started (so B's
# hand-over at its start did not see them either).  A is killed -9; B takes
# the lock and hands the three over.
wait_out() {  # wait_out FILE PATTERN SECONDS
    local deadline=$((SECONDS + $3))
    until grep -q "$2" "$1" 2>/dev/null; do
        ((SECONDS < deadline)) || return 1
        sleep 0.1
    done
}
run_bg "$DIR/hoA.out" 60
A=$BG
wait_out "$DIR/hoA.out" "^log: posting" 20
enqueue 1 hofirst
wait_sql "SELECT count(*) FROM deletion_outbox WHERE receipt_id = 'hofirst-1' AND block_number IS NOT NULL" 1 30
run_bg "$DIR/hoB.out" 60
B=$BG
wait_out "$DIR/hoB.out" "^address" 20
unlogged=$(sql "UPDATE deletion_outbox SET posted_audit_id = NULL WHERE receipt_id IN ('two1-1', 'two1-2', 'two1-3') RETURNING id" | wc -l)
{ kill -KILL "$A"; wait "$A"; } 2>/dev/null
wait_sql "SELECT count(*) FROM deletion_outbox WHERE receipt_id LIKE 'two%' AND posted_audit_id IS NULL" 0 20
left=$(sql "SELECT count(*) FROM deletion_outbox WHERE receipt_id LIKE 'two%' AND posted_audit_id IS NULL")
{ kill -TERM "$B"; wait "$B"; } 2>/dev/null
check "the new leader hands over the rows the killed one recorded but did not log (3), once" \
    '[[ $unlogged == 3 && $left == 0 && $(grep -c "^log: posting" "$DIR/hoB.out") == 1 &&
        $(grep -c "^posted two1-[123] " "$DIR/hoB.out") == 3 ]]' \
    "$unlogged unlogged, $left left; A: $(tail -n 3 "$DIR/hoA.out"); B: $(tail -n 5 "$DIR/hoB.out")"

# ---- an attestation with no on-chain form is kept aside, not sent -----------------------
sql "INSERT INTO deletion_outbox (receipt_id, attestation) VALUES ('bad-1', convert_to('{\"not\":\"an attestation\"}', 'UTF8'))" >/dev/null
out=$("$DRIVER" run 2 2>&1)
check "an outbox row that is not a signed attestation is rejected, kept and reported" \
    '[[ $(sql "SELECT rejected FROM deletion_outbox WHERE receipt_id = '"'"'bad-1'"'"'") == t && $out == *"bad-1"*"kept aside"* ]]' "$out"

# ---- the sim provider's KMS gate, with toyapp itself ------------------------------------------
printf 'services: {app: {image: toyapp:2.0.0}}\n' >"$DIR/compose-v2.yml"
h2=$(sha256sum "$DIR/compose-v2.yml" | cut -d' ' -f1)
toyapp_env=(env PORT="$API_PORT" METADATA_PORT="$META_PORT" CVM_ID=chain-test TOYAPP_COMPOSE_FILE="$DIR/compose-v2.yml")
out=$(timeout 20 "${toyapp_env[@]}" "$TOYAPP" 2>&1)
rc=$?
check "toyapp refuses to start with an unregistered compose hash, naming it and how to register it" \
    '[[ $rc == 2 && $out == *"compose hash $h2 is not registered in the app registry $CHAIN_APP_REGISTRY"* &&
        $out == *"toyctl register-compose $h2 --version VERSION --rpc $CHAIN_RPC_URL --registry $CHAIN_APP_REGISTRY"* ]]' "$out"
start_toyapp() {  # start_toyapp LOG [VAR=VALUE...]: toyapp in the background, until it listens
    local log=$1
    shift
    "${toyapp_env[@]}" "$@" "$TOYAPP" >"$log" 2>&1 &
    APP=$!
    pids+=("$APP")
    for _ in $(seq 100); do
        grep -q listening "$log" && return 0
        kill -0 "$APP" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}
stop_toyapp() { kill -TERM "$APP" 2>/dev/null; wait "$APP" 2>/dev/null; }
if start_toyapp "$DIR/app-off.log" CHAIN=off; then ok "with CHAIN=off toyapp starts unregistered"; stop_toyapp
else fail "with CHAIN=off toyapp starts unregistered" "$(cat "$DIR/app-off.log")"; fi
out=$("$TOYCTL" register-compose "$h2" --version 2.0.0 --rpc "$CHAIN_RPC_URL" --registry "$CHAIN_APP_REGISTRY" \
    --key-file "$CHAIN_OPERATOR_KEY_FILE" 2>&1)
if start_toyapp "$DIR/app.log"; then
    ok "registered with toyctl register-compose, toyapp starts"
    curl -s "http://127.0.0.1:$META_PORT/attestation?nonce=chain-test" >"$DIR/att.json"
    stop_toyapp
    # A deletion signed under the compose file this enclave runs: the
    # attestation binds the key to that code, and the record names it; it
    # binds the chain address too, the record's sender.
    TOYAPP_COMPOSE_FILE="$DIR/compose-v2.yml" enqueue 1 v2
    out=$("$DRIVER" run 30 "$(want 1)" 2>&1)
    v=$("$TOYCTL" verify-deletion v2-1 --rpc "$CHAIN_RPC_URL" --registry "$CHAIN_DELETION_REGISTRY" \
        --attestation "$DIR/att.json" --allow-sim --nonce chain-test)
    check "verify-deletion --attestation: the attestation of the running enclave binds the record's key and sender" \
        '[[ $? == 0 && $v == *"ok   attestation: publicKey is the report'"'"'s publicKey"* &&
            $v == *"ok   attestation: its enclaveAddress is the record'"'"'s sender ($ENCLAVE)"* ]]' "$v"
else
    fail "registered with toyctl register-compose, toyapp starts" "$out
$(cat "$DIR/app.log")"
fi
out=$("$TOYCTL" unregister-compose "$h2" --rpc "$CHAIN_RPC_URL" --registry "$CHAIN_APP_REGISTRY" \
    --key-file "$CHAIN_OPERATOR_KEY_FILE" 2>&1)
out=$(timeout 20 "${toyapp_env[@]}" "$TOYAPP" 2>&1)
check "unregistered again, toyapp refuses again" '[[ $? == 2 && $out == *"$h2 is not registered"* ]]' "$out"

hist=$("$TOYCTL" history --rpc "$CHAIN_RPC_URL" --registry "$CHAIN_APP_REGISTRY")
rc=$?
mine=$(awk '/^[0-9]+ /{print $1, $3, $4, $5, $6}' <<<"$hist")
theirs=$("${CHECK[@]}" history "$CHAIN_RPC_URL" "$CHAIN_APP_REGISTRY" | awk '{print $1, $2, $3, $4, $5}')
check "toyctl history lists every transition (added 1.0.0, added 2.0.0, removed 2.0.0), as ethers decodes them" \
    '[[ $rc == 0 && $mine == "$theirs" && $(awk "{print \$2, \$3}" <<<"$mine" | tr "\n" " ") == "added 1.0.0 added 2.0.0 removed 2.0.0 " &&
        $mine == *"0x$h2"* ]]' "$hist
--- ethers:
$theirs"

finish

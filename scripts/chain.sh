#!/usr/bin/env bash
# A local EVM dev chain on 127.0.0.1 for toyapp: anvil (npm @foundry-rs/anvil,
# pinned in package.json), its state kept in DIR between runs, with toyapp's
# deletion registry and app registry deployed (deploy/contracts).
# Usage: scripts/chain.sh COMMAND DIR [ARGS]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

PROG=chain.sh
WAIT=${CHAIN_WAIT_SECONDS:-30}
BUILD=${BUILD:-build}
if [[ $BUILD == /* ]]; then TOYCTL=${TOYCTL:-$BUILD/toyctl}; else TOYCTL=${TOYCTL:-$ROOT/$BUILD/toyctl}; fi

usage() {
    cat <<EOF
usage: $PROG COMMAND DIR [ARGS]

  init DIR              create DIR (if missing), an operator key, start the
                        node and deploy the contracts if they are absent;
                        running it again changes nothing
  start DIR             start the node and wait until it answers
  stop DIR              stop the node (its state is written to DIR/state.json)
  status DIR            up or down, chain id, latest block, contracts
  env DIR               print CHAIN_RPC_URL=, CHAIN_ID=, CHAIN_DELETION_REGISTRY=,
                        CHAIN_APP_REGISTRY= and CHAIN_OPERATOR_KEY_FILE=
  register DIR VERSION  register this machine's release (the compose hash
                        that toyapp's TEE provider reports, see toyctl
                        tee-info) as VERSION, and its enclave address as the
                        deletion registry's poster, funded; changes nothing
                        when both are registered already
  fund DIR ADDRESS      give ADDRESS 100 ETH (anvil_setBalance: dev chains only)

DIR holds chain.conf (port, chain id), operator.key (the operator's
secp256k1 key, mode 0600: it owns both contracts), state.json (anvil's
blocks and accounts, written every 2 s and on stop), contracts.env (the
addresses), anvil.pid and anvil.log.

Environment: CHAIN_PORT (default 8545) and CHAIN_ID (default 31337), used by
init and fixed from then on; CHAIN_WAIT_SECONDS (default 30);
CHAIN_STATE_INTERVAL (seconds between writes of state.json while the node
runs, default 2: a benchmark that records many deletions sets it higher,
since anvil writes its whole state each time); BUILD, TOYCTL
(default build/toyctl); ANVIL (default: the pinned anvil in node_modules).
For register, the variables of toyapp's TEE provider (TEE_PROVIDER,
TEE_SIM_SEED, APP_ID, TOYAPP_COMPOSE_FILE).
EOF
}

die() { printf '%s: %s\n' "$PROG" "$*" >&2; exit 1; }
say() { printf '%s\n' "$*"; }

conf_get() { sed -n "s/^$2=//p" "$1" | tail -n 1; }
valid_port() { [[ $1 =~ ^[0-9]+$ ]] && (($1 >= 1 && $1 <= 65535)); }

find_anvil() {
    if [[ -z ${ANVIL:-} ]]; then
        local b
        for b in "$ROOT"/node_modules/@foundry-rs/anvil-*/bin/anvil; do
            [[ -x $b ]] && ANVIL=$b
        done
    fi
    [[ -n ${ANVIL:-} && -x $ANVIL ]] || die "no anvil in node_modules (run scripts/deps.sh, which runs npm ci)"
}

load_conf() {
    CONF=$DIR/chain.conf
    if [[ -f $CONF ]]; then
        PORT=$(conf_get "$CONF" PORT)
        CID=$(conf_get "$CONF" CHAIN_ID)
        if ! valid_port "$PORT" || ! [[ $CID =~ ^[0-9]+$ ]]; then die "$CONF is damaged"; fi
        if [[ -n ${CHAIN_PORT:-} && $CHAIN_PORT != "$PORT" ]]; then
            die "$DIR was initialized with port $PORT, but CHAIN_PORT=$CHAIN_PORT"
        fi
    else
        PORT=${CHAIN_PORT:-8545}
        CID=${CHAIN_ID:-31337}
        valid_port "$PORT" || die "CHAIN_PORT=$PORT is not a port number"
        if ! [[ $CID =~ ^[0-9]+$ ]] || ((CID == 0)); then die "CHAIN_ID=$CID is not a chain id"; fi
    fi
    URL=http://127.0.0.1:$PORT
}

require_chain() {
    [[ -f $DIR/chain.conf ]] || die "$DIR is not a chain directory (run: $PROG init $DIR)"
    load_conf
}

# rpc METHOD PARAMS: the result's JSON text, or nothing if the node does not answer.
rpc() {
    curl -s --max-time 5 -X POST -H 'Content-Type: application/json' \
        -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":$2}" "$URL" 2>/dev/null \
        | sed -n 's/.*"result":\("[^"]*"\|true\|false\|null\).*/\1/p' | tr -d '"'
}

running() {
    [[ -f $DIR/anvil.pid ]] && kill -0 "$(cat "$DIR/anvil.pid")" 2>/dev/null
}

answers() { [[ -n $(rpc eth_chainId '[]') ]]; }

# shellcheck disable=SC2016 # $1 is expanded by the inner bash
port_in_use() { timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null; }

cmd_start() {
    require_chain
    if running; then
        say "chain: already running on $URL"
        return 0
    fi
    find_anvil
    port_in_use "$PORT" && die "port $PORT on 127.0.0.1 is in use by another process (stop it, or init another DIR with CHAIN_PORT set)"
    # --state loads DIR/state.json if it exists and writes it on exit;
    # --state-interval writes it every 2 s (CHAIN_STATE_INTERVAL), so a
    # killed node loses little.
    local every=${CHAIN_STATE_INTERVAL:-2}
    [[ $every =~ ^[1-9][0-9]*$ ]] || die "CHAIN_STATE_INTERVAL=$every is not a number of seconds"
    setsid "$ANVIL" --host 127.0.0.1 --port "$PORT" --chain-id "$CID" --state "$DIR/state.json" \
        --state-interval "$every" --accounts 0 >"$DIR/anvil.log" 2>&1 </dev/null &
    echo $! >"$DIR/anvil.pid"
    local deadline=$((SECONDS + WAIT))
    until answers; do
        if ! running; then
            tail -n 5 "$DIR/anvil.log" >&2
            die "anvil exited (log: $DIR/anvil.log)"
        fi
        ((SECONDS < deadline)) || die "anvil does not answer on $URL after ${WAIT}s (log: $DIR/anvil.log)"
        sleep 0.1
    done
    [[ $(rpc eth_chainId '[]') == "$(printf '0x%x' "$CID")" ]] || die "the node on $URL is not chain $CID"
    say "chain: started on $URL (chain id $CID, block $(($(rpc eth_blockNumber '[]'))))"
}

cmd_stop() {
    require_chain
    if ! running; then
        say "chain: already stopped"
        rm -f "$DIR/anvil.pid"
        return 0
    fi
    local pid deadline=$((SECONDS + WAIT))
    pid=$(cat "$DIR/anvil.pid")
    kill -TERM "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do
        if ((SECONDS >= deadline)); then
            kill -KILL "$pid" 2>/dev/null || true
            say "chain: did not stop within ${WAIT}s; killed (state as of its last write)"
            break
        fi
        sleep 0.1
    done
    rm -f "$DIR/anvil.pid"
    say "chain: stopped"
}

# Fund ADDRESS with 100 ETH on the dev chain.
fund() {
    [[ $(rpc anvil_setBalance "[\"$1\",\"0x56bc75e2d63100000\"]") == null ]] || die "cannot fund $1 on $URL"
}

# toyctl signs the operator's transactions; make run builds only the
# servers, so build it here when it is missing.
need_toyctl() {
    [[ -x $TOYCTL ]] && return 0
    [[ $TOYCTL == "$ROOT/$BUILD/toyctl" ]] && make --no-print-directory -C "$ROOT" "$BUILD/toyctl" >&2
    [[ -x $TOYCTL ]] || die "$TOYCTL is missing (make $BUILD/toyctl)"
}

has_code() { local c; c=$(rpc eth_getCode "[\"$1\",\"latest\"]"); [[ -n $c && $c != 0x ]]; }

ensure_contracts() {
    local env=$DIR/contracts.env dreg areg
    if [[ -f $env ]]; then
        dreg=$(conf_get "$env" CHAIN_DELETION_REGISTRY)
        areg=$(conf_get "$env" CHAIN_APP_REGISTRY)
        if has_code "$dreg" && has_code "$areg"; then
            say "chain: contracts present: deletion registry $dreg, app registry $areg"
            return 0
        fi
        say "chain: the contracts of $env are not on the chain (state lost?); deploying again"
    fi
    need_toyctl
    fund "$("$TOYCTL" address --key-file "$DIR/operator.key")"
    "$TOYCTL" chain-deploy --rpc "$URL" --key-file "$DIR/operator.key" >"$env.tmp" \
        || die "deploying the contracts failed"
    mv "$env.tmp" "$env"
    say "chain: deployed deletion registry $(conf_get "$env" CHAIN_DELETION_REGISTRY), app registry $(conf_get "$env" CHAIN_APP_REGISTRY)"
}

cmd_init() {
    load_conf
    if [[ -e $DIR && ! -f $DIR/chain.conf ]]; then
        [[ -d $DIR ]] || die "$DIR exists and is not a directory"
        [[ -z $(ls -A "$DIR") ]] || die "$DIR is not empty and holds no chain; give a new or empty directory"
    fi
    mkdir -p "$DIR"
    chmod 0700 "$DIR"
    [[ -f $DIR/chain.conf ]] || printf 'PORT=%s\nCHAIN_ID=%s\n' "$PORT" "$CID" >"$DIR/chain.conf"
    if [[ ! -f $DIR/operator.key ]]; then
        (umask 077; od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$DIR/operator.key.tmp")
        mv "$DIR/operator.key.tmp" "$DIR/operator.key"
        say "chain: generated the operator key $DIR/operator.key (mode 0600)"
    fi
    cmd_start
    ensure_contracts
}

cmd_env() {
    require_chain
    [[ -f $DIR/contracts.env ]] || die "$DIR has no contracts yet (run: $PROG init $DIR)"
    say "CHAIN_RPC_URL=$URL"
    say "CHAIN_ID=$CID"
    say "CHAIN_DELETION_REGISTRY=$(conf_get "$DIR/contracts.env" CHAIN_DELETION_REGISTRY)"
    say "CHAIN_APP_REGISTRY=$(conf_get "$DIR/contracts.env" CHAIN_APP_REGISTRY)"
    say "CHAIN_OPERATOR_KEY_FILE=$DIR/operator.key"
}

cmd_status() {
    require_chain
    if running && answers; then
        say "chain: up on $URL, chain id $(($(rpc eth_chainId '[]'))), block $(($(rpc eth_blockNumber '[]')))"
    else
        say "chain: down ($URL)"
    fi
    [[ -f $DIR/contracts.env ]] && sed 's/^/  /' "$DIR/contracts.env"
    return 0
}

cmd_register() {
    local version=$1 hash addr dreg areg
    require_chain
    answers || die "the node on $URL does not answer (run: $PROG start $DIR)"
    need_toyctl
    dreg=$(conf_get "$DIR/contracts.env" CHAIN_DELETION_REGISTRY)
    areg=$(conf_get "$DIR/contracts.env" CHAIN_APP_REGISTRY)
    hash=$(CHAIN=off "$TOYCTL" tee-info | sed -n 's/^composeHash=//p')
    [[ $hash =~ ^[0-9a-f]{64}$ ]] || die "toyctl tee-info reported no compose hash"
    "$TOYCTL" register-compose "$hash" --version "$version" --rpc "$URL" --registry "$areg" \
        --key-file "$DIR/operator.key"
    # The enclave's keys come only now that its compose hash is registered.
    addr=$(CHAIN=on CHAIN_RPC_URL=$URL CHAIN_APP_REGISTRY=$areg "$TOYCTL" tee-info --keys \
        | sed -n 's/^enclaveAddress=//p')
    [[ $addr =~ ^0x[0-9a-fA-F]{40}$ ]] || die "toyctl tee-info --keys reported no enclave address"
    "$TOYCTL" register-enclave "$addr" --rpc "$URL" --registry "$dreg" --key-file "$DIR/operator.key"
    fund "$addr"
    say "chain: enclave $addr funded"
}

main() {
    if [[ $# -eq 1 && ($1 == -h || $1 == --help || $1 == help) ]]; then
        usage
        exit 0
    fi
    local cmd=${1:-}
    if [[ -z ${2:-} || ($# -ne 2 && ! (($cmd == register || $cmd == fund) && $# -eq 3)) ]]; then
        usage >&2
        exit 2
    fi
    DIR=$(realpath -m -- "$2")
    case $cmd in
        init) cmd_init ;;
        start) cmd_start ;;
        stop) cmd_stop ;;
        status) cmd_status ;;
        env) cmd_env ;;
        register) cmd_register "$3" ;;
        fund)
            require_chain
            [[ $3 =~ ^0x[0-9a-fA-F]{40}$ ]] || die "fund: $3 is not an address"
            fund "$3"
            say "chain: $3 funded"
            ;;
        *)
            usage >&2
            exit 2
            ;;
    esac
}

main "$@"

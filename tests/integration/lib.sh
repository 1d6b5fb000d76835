# lib.sh - what the shell integration tests of the release side share:
# counting checks, the closing "N passed, M failed" line (tests/run.sh reads
# it), free loopback ports, and waiting for a server to listen.
# Sourced by a test (and by scripts/upgrade-demo.sh, whose checks
# test_upgrade.py counts), never run.
# shellcheck shell=bash

passed=0 failed=0
# Extra text shown under the next failing check (reset after each check).
detail=

ok() { passed=$((passed + 1)); printf 'ok    %s\n' "$1"; }

# fail NAME [DETAIL]: a failed check, with the end of DETAIL indented.
fail() {
    failed=$((failed + 1))
    printf 'FAIL  %s\n' "$1"
    [[ -z ${2:-} ]] || printf '%s\n' "$2" | tail -n 30 | sed 's/^/      /'
}

# check NAME CMD...: passes when CMD succeeds; $detail goes with a failure.
check() {
    local name=$1
    shift
    if "$@"; then ok "$name"; else fail "$name" "${detail:-}"; fi
    detail=
}

# report: counts the "ok ..." / "FAIL ..." lines a checker printed.  Read it
# from a file (report <FILE): in a pipeline the counts stay in a subshell.
report() {
    local line
    while IFS= read -r line; do
        case $line in
        "ok "*) ok "${line#ok }" ;;
        "FAIL "*) fail "${line#FAIL }" ;;
        *) [[ -z $line ]] || fail "unexpected output: $line" ;;
        esac
    done
}

# finish: the closing line; exits 0 when nothing failed, else 1.
finish() {
    printf '%s passed, %s failed\n' "$passed" "$failed"
    if ((failed == 0)); then exit 0; fi
    exit 1
}

# free_ports N: the first of N consecutive free TCP ports on 127.0.0.1,
# below the ephemeral range (32768+) where client sockets take theirs, and
# spread by the process id so that tests running at once do not collide.
free_ports() {
    python3 - "$1" "$$" <<'PY'
import socket, sys
n, pid = int(sys.argv[1]), int(sys.argv[2])
for attempt in range(200):
    base = 20000 + (pid * n + attempt * 41 + 7) % 12000
    socks = []
    try:
        for i in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", base + i))
            socks.append(s)
        print(base)
        break
    except OSError:
        pass
    finally:
        for s in socks:
            s.close()
PY
}

# wait_listening PID LOG [SECONDS]: waits (default 20 s) until LOG has the
# server's "listening" line; fails at once if PID has exited.
wait_listening() {
    local i
    for ((i = 0; i < ${3:-20} * 10; i++)); do
        grep -q listening "$2" 2>/dev/null && return 0
        kill -0 "$1" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

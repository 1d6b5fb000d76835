#!/usr/bin/env bash
# Runs every test binary given, then the spec compiler's error tests, and
# prints one closing line: "N passed, N failed".
set -uo pipefail
BUILD=${BUILD:-build}
passed=0 failed=0
failures=()

for t in "$@"; do
    name=${t##*/}
    out=$(timeout 900 "$t" 2>&1); rc=$?
    # cmocka prints "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s)..."
    p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
    if [ $rc -ne 0 ] || [ -z "$p" ]; then
        [ -n "$f" ] || failed=$((failed + 1))
        failures+=("$name")
        printf '%s\n' "$out" | tail -40
        echo "FAIL: $name (exit $rc)"
    else
        echo "ok    $name: ${p} tests"
    fi
done

# Replay every saved fuzz input through its harness.
for r in ${REPLAYS:-}; do
    name=${r##*/}
    out=$(timeout 300 "$r" "tests/fuzz/corpus/$name" 2>&1); rc=$?
    if [ $rc -eq 0 ]; then
        passed=$((passed + 1)); echo "ok    $name: $(printf '%s\n' "$out" | tail -1)"
    else
        failed=$((failed + 1)); failures+=("$name")
        printf '%s\n' "$out" | tail -30; echo "FAIL: $name (exit $rc)"
    fi
done

# specc must refuse each bad spec with exactly the expected message.
for s in tests/specc/bad/*.spec; do
    exp=${s%.spec}.expected
    got=$("$BUILD/specc" --check "$s" 2>&1); rc=$?
    if [ $rc -eq 1 ] && [ "$got" == "$(cat "$exp")" ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1)); failures+=("$s")
        echo "FAIL: $s (exit $rc); diff expected got:"
        diff <(cat "$exp") <(printf '%s\n' "$got") | head -20
    fi
done
bad_specs=(tests/specc/bad/*.spec)
echo "ok    specc: ${#bad_specs[@]} bad specs checked"

# Integration tests: each starts the real servers it needs and ends with
# its own "N passed, N failed" line.
for t in ${INTEGRATION:-}; do
    name=${t##*/}
    out=$(timeout 900 "$t" 2>&1); rc=$?
    last=$(printf '%s\n' "$out" | tail -1)
    p=$(printf '%s' "$last" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\1/p')
    f=$(printf '%s' "$last" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\2/p')
    passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
    if [ $rc -ne 0 ] || [ -z "$p" ]; then
        [ -n "$f" ] && [ "$f" -gt 0 ] || failed=$((failed + 1))
        failures+=("$name")
        # The failed checks wherever they are, then the end of the output.
        printf '%s\n' "$out" | grep -E '^(FAIL|not ok)' | head -20
        printf '%s\n' "$out" | tail -30; echo "FAIL: $name (exit $rc)"
    else
        echo "ok    $name: $p checks"
    fi
done

# The real spec must compile cleanly.
if "$BUILD/specc" --check spec; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=(spec); fi

[ ${#failures[@]} -eq 0 ] || echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

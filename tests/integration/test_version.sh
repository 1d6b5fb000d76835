#!/usr/bin/env bash
# Integration test of the one version (the file VERSION) and of
# scripts/bump-version.sh, which changes it.
#
# Checks: VERSION holds one semantic version; toyapp --version prints it;
# bump-version.sh, run in a temporary copy of the repository (never on this
# working tree), raises it, changes nothing but VERSION, and refuses - with a
# message, exit 1 and VERSION untouched - a non-semver, a lower or equal
# version (semver precedence, pre-releases included) and a released tag;
# after a bump the copy's build prints the new version.
#
# Env: BUILD (default build), KEEP=1 keeps the temporary directory.  The
# last line is "N passed, M failed"; the exit status is non-zero on failure.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
TMP=$(mktemp -d)
[[ -n ${KEEP:-} ]] || trap 'rm -rf "$TMP"' EXIT

# shellcheck source=SCRIPTDIR/lib.sh
source "$ROOT/tests/integration/lib.sh"

if command -v shellcheck >/dev/null 2>&1; then
    out=$(shellcheck -x "$ROOT/scripts/bump-version.sh" "${BASH_SOURCE[0]}" 2>&1)
    detail=$out check "bump-version.sh and this test are shellcheck-clean" test -z "$out"
else
    fail "shellcheck is installed (Debian: shellcheck)"
fi

# ---- the version of this tree ---------------------------------------------------

version=$(tr -d '[:space:]' <"$ROOT/VERSION")
semver='^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?$'
check "VERSION holds one semantic version ($version)" \
    test "$(wc -l <"$ROOT/VERSION")" -eq 1 -a -n "$(grep -E "$semver" <<<"$version")"
out=$("$ROOT/$BUILD/toyapp" --version 2>&1)
detail=$out check "toyapp --version prints 'toyapp $version'" test "$out" = "toyapp $version"
out=$("$ROOT/$BUILD/toyapp" --versio 2>&1)
rc=$?
detail=$out check "toyapp with an unknown argument exits 2 and names it" \
    test "$rc" -eq 2 -a -n "$(grep -F -- --versio <<<"$out")"
# The version is written in one place: no source file defines it again.
out=$(cd "$ROOT" && git grep -nE '#define[[:space:]]+TOY_VERSION' -- src runtime gen 2>/dev/null)
detail=$out check "no source file defines TOY_VERSION (the build passes it from VERSION)" test -z "$out"

# ---- bump-version.sh in a copy -------------------------------------------------

# The tracked and untracked (not ignored) files of this tree, and a fresh git
# history of them, so that tags can be made without touching this repository.
C=$TMP/copy
mkdir -p "$C"
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard) |
    (cd "$ROOT" && tar --null -T - --ignore-failed-read -cf - 2>/dev/null) | tar -xf - -C "$C"
git -C "$C" init -q
git -C "$C" -c user.name=t -c user.email=t@example.com add -A
git -C "$C" -c user.name=t -c user.email=t@example.com commit -q -m base
printf '1.2.3\n' >"$C/VERSION"
BUMP=$C/scripts/bump-version.sh

# bump V: runs the copy's bump-version.sh; sets brc and bout.
bump() {
    bout=$("$BUMP" "$@" 2>&1)
    brc=$?
}
cur() { cat "$C/VERSION"; }
# refused NAME V WORDS: the bump of V exits 1, says WORDS, leaves VERSION.
refused() {
    local before
    before=$(cur)
    bump "$2"
    detail="exit $brc: $bout" check "$1" test "$brc" -eq 1 -a "$(cur)" = "$before" -a -n "$(grep -F -- "$3" <<<"$bout")"
}

bump
detail=$bout check "no argument: usage, exit 2" test "$brc" -eq 2 -a -n "$(grep -F usage: <<<"$bout")"
bump 1.3.0 1.4.0
detail=$bout check "two arguments: usage, exit 2" test "$brc" -eq 2

refused "non-semver 1.3 is refused" 1.3 "not a semantic version"
refused "non-semver v1.3.0 (a tag, not a version) is refused" v1.3.0 "not a semantic version"
refused "leading zero 01.3.0 is refused" 01.3.0 "not a semantic version"
refused "numeric pre-release with a leading zero 1.3.0-01 is refused" 1.3.0-01 "not a semantic version"
refused "empty pre-release identifier 1.3.0-rc..1 is refused" 1.3.0-rc..1 "not a semantic version"
refused "build metadata 1.3.0+build.5 is refused" 1.3.0+build.5 "build metadata"
refused "text 'latest' is refused" latest "not a semantic version"
refused "the same version 1.2.3 is refused" 1.2.3 "already 1.2.3"
refused "a lower patch 1.2.2 is refused" 1.2.2 "lower than the current version 1.2.3"
refused "a lower minor 1.1.9 is refused" 1.1.9 "lower"
refused "a pre-release of the current version 1.2.3-rc.1 is refused" 1.2.3-rc.1 "lower"

bump 1.2.4-rc.2
detail=$bout check "1.2.3 -> 1.2.4-rc.2 is accepted" test "$brc" -eq 0 -a "$(cur)" = 1.2.4-rc.2
refused "1.2.4-rc.1 < 1.2.4-rc.2 is refused" 1.2.4-rc.1 "lower"
refused "1.2.4-beta < 1.2.4-rc.2 (identifiers in ASCII order) is refused" 1.2.4-beta "lower"
refused "1.2.4-rc < 1.2.4-rc.2 (fewer identifiers) is refused" 1.2.4-rc "lower"
bump 1.2.4-rc.10
detail=$bout check "1.2.4-rc.10 > 1.2.4-rc.2 (numeric identifiers as numbers) is accepted" \
    test "$brc" -eq 0 -a "$(cur)" = 1.2.4-rc.10
bump 1.2.4
detail=$bout check "the release 1.2.4 > its pre-release 1.2.4-rc.10 is accepted" test "$brc" -eq 0 -a "$(cur)" = 1.2.4
bump 10.0.0
detail=$bout check "10.0.0 is accepted" test "$brc" -eq 0 -a "$(cur)" = 10.0.0
refused "9.9.9 < 10.0.0 (numbers, not text) is refused" 9.9.9 "lower"

git -C "$C" tag v10.1.0
refused "a version whose tag v10.1.0 already exists is refused" 10.1.0 "already exists"

out=$(git -C "$C" status --porcelain)
detail=$out check "after the bumps only VERSION differs from the copy's commit" test "$out" = " M VERSION"
check "VERSION is one line, the version and a newline" test "$(od -c "$C/VERSION" | head -1 | tr -s ' ')" = "0000000 1 0 . 0 . 0 \n"

printf '1.2\n' >"$C/VERSION"
refused "a VERSION file that is not a semver is reported, not overwritten" 1.3.0 "fix it by hand"
printf '10.0.0\n' >"$C/VERSION"

# ---- the build reads VERSION -------------------------------------------------
# (a plain build in the copy, whatever a `make test SANITIZE=...` around this
# test passes down in MAKEFLAGS)

bump 10.2.0-rc.1
detail=$bout check "bump to 10.2.0-rc.1" test "$brc" -eq 0
out=$(cd "$C" && env -u MAKEFLAGS -u MAKELEVEL make --no-print-directory -j2 BUILD=build build/toyapp 2>&1)
rc=$?
detail=$out check "the copy builds toyapp after the bump" test "$rc" -eq 0
out=$("$C/build/toyapp" --version 2>&1)
detail=$out check "the copy's toyapp --version prints the bumped version" test "$out" = "toyapp 10.2.0-rc.1"
bump 10.2.0
out=$(cd "$C" && env -u MAKEFLAGS -u MAKELEVEL make --no-print-directory -j2 BUILD=build build/toyapp 2>&1 && build/toyapp --version)
detail=$out check "a second bump rebuilds toyapp with the new version (objects depend on VERSION)" \
    test "$(tail -n 1 <<<"$out")" = "toyapp 10.2.0"
printf 'x1.2\n' >"$C/VERSION"
out=$(cd "$C" && env -u MAKEFLAGS -u MAKELEVEL make --no-print-directory BUILD=build build/toyapp 2>&1)
rc=$?
detail=$out check "make refuses a VERSION that is not a semver, naming it" test "$rc" -ne 0 -a -n "$(grep -F 'x1.2' <<<"$out")"

finish

#!/usr/bin/env bash
# Tests scripts/changelog.sh and scripts/deployments.sh on a fixture git
# history that this test builds in a temporary directory: conventional and
# other commits, a merge, release tags v0.1.0 and v0.2.0 (and a non-release
# tag), then deployments of those tags recorded and rendered.
#
# Checks, changelog: the range (since the previous v* tag, the whole history
# for the first, "Unreleased" after the last); breaking changes first ("!"
# and BREAKING CHANGE footers, with the footer's text), then one section per
# type in the documented order; scopes; merges left out; non-conventional
# subjects kept under "Other changes"; the tag's date; errors.
# Deployments: records written from rendered app-composes, with toyctl's
# compose hashes and the app-composes kept byte for byte; DEPLOYMENTS.md
# newest first, with each role's change of compose hash since the previous
# deployment; refusals that write nothing; a tampered record or app-compose
# refused by render; check catches a hand edit.
#
# Env: BUILD (default build), TOYCTL (default $BUILD/toyctl), KEEP=1 keeps
# the temporary directory.  The last line is "N passed, M failed"; the exit
# status is non-zero on any failure.
# shellcheck disable=SC2016 # Markdown's backticks in single quotes
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TOYCTL=${TOYCTL:-$ROOT/${BUILD:-build}/toyctl}
[[ $TOYCTL != */* || $TOYCTL == /* ]] || TOYCTL=$PWD/$TOYCTL
export TOYCTL
CHANGELOG=$ROOT/scripts/changelog.sh
DEPLOYMENTS=$ROOT/scripts/deployments.sh
TMP=$(mktemp -d)
if [[ -n ${KEEP:-} ]]; then echo "kept $TMP"; else trap 'rm -rf "$TMP"' EXIT; fi

# shellcheck source=SCRIPTDIR/lib.sh
source "$ROOT/tests/integration/lib.sh"
has() { grep -qF -- "$2" <<<"$1"; }
# line_of TEXT LINE: the line number of the first line equal to LINE (0: none).
line_of() { awk -v l="$2" '$0 == l { print NR; f = 1; exit } END { if (!f) print 0 }' <<<"$1"; }

out=$(shellcheck -x "$CHANGELOG" "$DEPLOYMENTS" "${BASH_SOURCE[0]}" 2>&1)
detail=$out check "the scripts and this test are shellcheck-clean" test -z "$out"

# ---- the fixture history --------------------------------------------------------

R=$TMP/repo
git init -q -b main "$R"
export GIT_AUTHOR_NAME=dev GIT_AUTHOR_EMAIL=dev@example.com GIT_COMMITTER_NAME=dev GIT_COMMITTER_EMAIL=dev@example.com
n=0
commit() { # commit MESSAGE [DATE]: one commit touching its own file
    n=$((n + 1))
    printf '%s\n' "$n" >"$R/f$n"
    git -C "$R" add "f$n"
    local date
    printf -v date '2026-03-%02dT10:00:00Z' "$n"
    GIT_AUTHOR_DATE=${2:-$date} GIT_COMMITTER_DATE=${2:-$date} git -C "$R" commit -q -m "$1"
}
commit "chore: start the project"
commit "feat: the first endpoint"
GIT_COMMITTER_DATE=2026-03-05T23:30:00Z git -C "$R" tag -a v0.1.0 -m v0.1.0
commit "feat(api): add /thing"
commit "fix: crash on an empty body"
commit "docs: the upgrade guide"
git -C "$R" tag nightly
commit "feat!: drop the v1 endpoint"
commit "refactor(db): split the writer

The writer gets a file of its own.

BREAKING CHANGE: the schema changes;
migration 14 must run first.

Reviewed-by: someone"
commit "a subject that follows no convention"
commit "ci: the deploy workflow"
commit "perf(parser): fewer copies"
git -C "$R" checkout -q -b side
commit "test: more cases" 2026-03-10T10:00:00Z
git -C "$R" checkout -q main
commit "style: format the headers" 2026-03-11T10:00:00Z
GIT_COMMITTER_DATE=2026-03-12T10:00:00Z git -C "$R" merge -q --no-ff -m "Merge branch 'side'" side
commit "build: pin the toolchain" 2026-03-13T10:00:00Z
git -C "$R" tag v0.2.0 # lightweight: the date is the commit's
commit "fix: a bug found after the release" 2026-03-20T10:00:00Z

cl() { (cd "$R" && "$CHANGELOG" "$@" 2>&1); }

# ---- changelog ------------------------------------------------------------------

c2=$(cl v0.2.0)
rc=$?
detail=$c2 check "changelog v0.2.0 succeeds" test "$rc" -eq 0
check "titled with the tag and its commit's date (UTC)" test "$(head -n 1 <<<"$c2")" = "## v0.2.0 (2026-03-13)"
check "says it covers the changes since v0.1.0 (not since the nightly tag)" has "$c2" "Changes since v0.1.0."
order=(
    "### Breaking changes" "### Features" "### Bug fixes" "### Performance"
    "### Documentation" "### Tests" "### Build and CI" "### Style" "### Other changes"
)
lines=()
for h in "${order[@]}"; do lines+=("$(line_of "$c2" "$h")"); done
sorted=$(printf '%s\n' "${lines[@]}" | sort -n | tr '\n' ' ')
detail="${order[*]} at lines ${lines[*]}" check "sections in order, breaking changes first, every present type once" \
    test "$sorted" = "${lines[*]} " -a "${lines[0]}" -gt 0 -a -z "$(printf '%s\n' "${lines[@]}" | grep -x 0)"
check "no empty section (no Chores, no Refactoring, no Reverts in this range)" \
    test "$(line_of "$c2" "### Chores")" -eq 0 -a "$(line_of "$c2" "### Refactoring")" -eq 0 -a "$(line_of "$c2" "### Reverts")" -eq 0
brk=$(sed -n '/^### Breaking changes/,/^### Features/p' <<<"$c2")
check "breaking: the '!' commit" has "$brk" "- drop the v1 endpoint ("
check "breaking: the footer commit, with its scope and the footer's text on one line" \
    has "$brk" "- **db:** split the writer ("
check "... the footer's text, continuation joined, the trailer after the blank line left out" \
    test -n "$(grep -xF '  the schema changes; migration 14 must run first.' <<<"$brk")" -a -z "$(grep -F Reviewed-by <<<"$brk")"
check "a breaking feature is not listed again under Features" \
    test "$(grep -c 'drop the v1 endpoint' <<<"$c2")" -eq 1
check "scopes are shown: **api:** add /thing, **parser:** fewer copies" \
    test -n "$(grep -F -- '- **api:** add /thing (' <<<"$c2")" -a -n "$(grep -F -- '- **parser:** fewer copies (' <<<"$c2")"
check "ci: and build: both go to Build and CI" \
    test -n "$(sed -n '/^### Build and CI/,/^### /p' <<<"$c2" | grep -F 'the deploy workflow')" \
    -a -n "$(sed -n '/^### Build and CI/,/^### /p' <<<"$c2" | grep -F 'pin the toolchain')"
check "the commit of the merged branch is in, the merge commit is not" \
    test -n "$(grep -F 'more cases' <<<"$c2")" -a -z "$(grep -F "Merge branch" <<<"$c2")"
check "a subject that is no conventional commit is kept under Other changes" \
    test -n "$(sed -n '/^### Other changes/,$p' <<<"$c2" | grep -F 'a subject that follows no convention')"
check "commits of v0.1.0 and after v0.2.0 are not in it" \
    test -z "$(grep -e 'the first endpoint' -e 'found after the release' <<<"$c2")"
sha=$(git -C "$R" log -1 --format=%h --grep '^fix: crash')
check "each item names its commit ($sha)" has "$c2" "- crash on an empty body ($sha)"

c1=$(cl v0.1.0)
check "the first release covers the whole history" \
    test -n "$(has "$c1" "since the beginning" && echo y)" -a -n "$(grep -F 'start the project' <<<"$c1")" \
    -a "$(head -n 1 <<<"$c1")" = "## v0.1.0 (2026-03-02)"
cu=$(cl)
check "HEAD after the last tag: Unreleased, since v0.2.0, the one new fix" \
    test "$(head -n 1 <<<"$cu")" = "## Unreleased" -a -n "$(has "$cu" "Changes since v0.2.0." && echo y)" \
    -a "$(grep -c '^- ' <<<"$cu")" -eq 1 -a -n "$(grep -F 'a bug found after the release' <<<"$cu")"
git -C "$R" tag v0.3.0
ce=$(cl v0.3.0)
check "once tagged, the same changes under the tag's title" \
    test "$(head -n 1 <<<"$ce")" = "## v0.3.0 (2026-03-20)" -a "$(tail -n +2 <<<"$ce")" = "$(tail -n +2 <<<"$cu")"
out=$(cl nonesuch)
rc=$?
detail=$out check "an unknown ref: exit 1, named" test "$rc" -eq 1 -a -n "$(grep -F nonesuch <<<"$out")"
out=$(cd "$TMP" && "$CHANGELOG" 2>&1)
rc=$?
detail=$out check "outside a git repository: exit 1" test "$rc" -eq 1 -a -n "$(grep -F 'not inside a git repository' <<<"$out")"
"$CHANGELOG" a b >/dev/null 2>&1
check "two arguments: usage, exit 2" test $? -eq 2

# ---- deployment records and DEPLOYMENTS.md ------------------------------------------

D=$TMP/deployments MD=$TMP/DEPLOYMENTS.md
export DEPLOYMENTS_DIR=$D DEPLOYMENTS_MD=$MD
out=$("$DEPLOYMENTS" render 2>&1)
check "no records: 'No deployment yet.'" has "$out" "No deployment yet."

DA=$(printf 'a%.0s' {1..64}) DB=$(printf 'b%.0s' {1..64})
REG=0x1111111111111111111111111111111111111111
render_role() { # render_role OUT ROLE DIGEST
    local img=TOY_ATTESTD_IMAGE=ghcr.io/example/toy-attestd@sha256:$DA
    [[ $2 != app ]] || img=TOYAPP_IMAGE=ghcr.io/example/toyapp@sha256:$3
    "$ROOT/scripts/app-compose.sh" -o "$1" "$2" "$img"
}
mkdir -p "$TMP/a1" "$TMP/a2"
for r in app pg-primary pg-replica; do render_role "$TMP/a1/$r.json" "$r" "$DA"; done
for r in app pg-primary pg-replica; do render_role "$TMP/a2/$r.json" "$r" "$DB"; done
c010=$(git -C "$R" rev-parse "v0.1.0^{commit}") c020=$(git -C "$R" rev-parse "v0.2.0^{commit}")
record() { # record VERSION COMMIT TIME DIR [EXTRA...]: sets rrc, rout
    local v=$1 c=$2 t=$3 dir=$4 d=$DA
    shift 4
    [[ $dir != "$TMP/a2" ]] || d=$DB
    rout=$("$DEPLOYMENTS" record --version "$v" --commit "$c" --time "$t" --registry "$REG" --chain-id 31337 \
        --image "toyapp=ghcr.io/example/toyapp@sha256:$d" --image "toy-attestd=ghcr.io/example/toy-attestd@sha256:$DA" \
        --role "app=$dir/app.json" --role "pg-primary=$dir/pg-primary.json" --role "pg-replica=$dir/pg-replica.json" "$@" 2>&1)
    rrc=$?
}
record 0.1.0 "$c010" 2026-03-06T09:00:00Z "$TMP/a1" --run https://ci.example/runs/1 --compare passed \
    --tx "app=0x$DA" --url app=https://toyapp.example
detail=$rout check "record v0.1.0" test "$rrc" -eq 0 -a -f "$D/v0.1.0.json"
check "... keeps the three app-composes byte for byte" \
    cmp -s "$D/v0.1.0/app.app-compose.json" "$TMP/a1/app.json"
h_app1=$("$TOYCTL" compose-hash "$TMP/a1/app.json")
check "... with toyctl's compose hash of each" \
    test "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["roles"]["app"]["composeHash"])' "$D/v0.1.0.json")" = "$h_app1"

before=$(cd "$D" && find . | sort | xargs -r sha256sum 2>/dev/null)
# refused WHAT WORDS ARGS...: record refuses, says WORDS, writes nothing.
refused() {
    local what=$1 words=$2
    shift 2
    record "$@"
    detail="exit $rrc: $rout" check "record refuses $what" \
        test "$rrc" -eq 1 -a -n "$(grep -F -- "$words" <<<"$rout")" \
        -a "$(cd "$D" && find . | sort | xargs -r sha256sum 2>/dev/null)" = "$before"
}
refused "a version already recorded" "already recorded" 0.1.0 "$c010" 2026-03-06T09:00:00Z "$TMP/a1"
refused "a version that is not semver" "not a semantic version" 0.2 "$c020" 2026-03-14T09:00:00Z "$TMP/a2"
refused "a short commit" "40 hex" 0.2.0 "${c020:0:12}" 2026-03-14T09:00:00Z "$TMP/a2"
refused "a time that is not UTC ISO 8601" "YYYY-MM-DD" 0.2.0 "$c020" "2026-03-14 09:00" "$TMP/a2"
refused "a --tx of no role" "no such --role" 0.2.0 "$c020" 2026-03-14T09:00:00Z "$TMP/a2" --tx "web=0x$DA"
cp "$ROOT/deploy/app/docker-compose.yml" "$TMP/a2/bad.json"
refused "a role file that is not an app-compose" "compose-hash refused" 0.2.0 "$c020" 2026-03-14T09:00:00Z "$TMP/a2" --role "extra=$TMP/a2/bad.json"

record 0.2.0-rc.1 "$c020" 2026-03-13T12:00:00Z "$TMP/a2"
record 0.2.0 "$c020" 2026-03-14T09:00:00Z "$TMP/a2" --url app=https://toyapp.example
detail=$rout check "record v0.2.0-rc.1 and v0.2.0" test "$rrc" -eq 0 -a -f "$D/v0.2.0.json" -a -f "$D/v0.2.0-rc.1.json"

md=$("$DEPLOYMENTS" render 2>&1)
rc=$?
detail=$md check "render succeeds" test "$rc" -eq 0
l2=$(line_of "$md" "## v0.2.0") lrc=$(line_of "$md" "## v0.2.0-rc.1") l1=$(line_of "$md" "## v0.1.0")
check "newest version first, the pre-release between (semver order)" test "$l2" -gt 0 -a "$l2" -lt "$lrc" -a "$lrc" -lt "$l1"
sec2=$(sed -n "${l2},$((lrc - 1))p" <<<"$md")
h_app2=$("$TOYCTL" compose-hash "$TMP/a2/app.json")
check "v0.2.0: the app's compose hash is unchanged since v0.2.0-rc.1 (same images)" \
    test -n "$(grep -F "| app | \`$h_app2\` | unchanged |" <<<"$sec2")"
secrc=$(sed -n "${lrc},$((l1 - 1))p" <<<"$md")
check "v0.2.0-rc.1: the app's compose hash changed since v0.1.0, and says from what" \
    test -n "$(grep -F "| app | \`$h_app2\` | **changed** (was \`${h_app1:0:16}…\`) |" <<<"$secrc")"
check "... the Postgres roles did not change" \
    test "$(grep -c '| pg-[a-z]* | `[0-9a-f]*` | unchanged |' <<<"$secrc")" -eq 2
sec1=$(sed -n "${l1},\$p" <<<"$md")
check "v0.1.0: first deployment, its registration transaction, its URL, run and compare result" \
    test -n "$(grep -F "| app | \`$h_app1\` | first deployment | \`0x$DA\` | https://toyapp.example |" <<<"$sec1")" \
    -a -n "$(grep -F 'https://ci.example/runs/1' <<<"$sec1")" -a -n "$(grep -F 'compare-instances`: passed' <<<"$sec1")"
check "the summary table has one row per deployment, commit abbreviated" \
    test "$(grep -c '^| \[v' <<<"$md")" -eq 3 -a -n "$(grep -F "\`${c010:0:12}\`" <<<"$md")"
check "the registry and the images are named" \
    test -n "$(grep -F "App registry: \`$REG\` on chain 31337" <<<"$md")" -a -n "$(grep -F "ghcr.io/example/toyapp@sha256:$DB" <<<"$sec2")"

"$DEPLOYMENTS" render -o "$MD"
out=$("$DEPLOYMENTS" check 2>&1)
rc=$?
detail=$out check "check: DEPLOYMENTS.md as rendered matches" test "$rc" -eq 0
printf '\n| v9.9.9 | by hand |\n' >>"$MD"
out=$("$DEPLOYMENTS" check 2>&1)
rc=$?
detail=$out check "check: a hand edit is caught (exit 1)" test "$rc" -eq 1 -a -n "$(grep -F 'not what the records say' <<<"$out")"

# Tampering: render refuses, naming the record.
cp -a "$D" "$TMP/d-ok"
python3 - "$D/v0.1.0.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
h = r["roles"]["pg-primary"]["composeHash"]
r["roles"]["pg-primary"]["composeHash"] = ("0" if h[0] != "0" else "1") + h[1:]
json.dump(r, open(sys.argv[1], "w"), indent=2, sort_keys=True)
EOF
out=$("$DEPLOYMENTS" render 2>&1)
rc=$?
detail=$out check "render refuses a record whose composeHash is not its app-compose's" \
    test "$rc" -eq 1 -a -n "$(grep -F 'v0.1.0.json: role pg-primary' <<<"$out")"
rm -rf "$D" && cp -a "$TMP/d-ok" "$D"
printf ' ' >>"$D/v0.2.0/app.app-compose.json"
out=$("$DEPLOYMENTS" render 2>&1)
rc=$?
detail=$out check "render refuses an app-compose changed after the fact (one byte)" \
    test "$rc" -eq 1 -a -n "$(grep -F 'is not the SHA-256' <<<"$out")"
rm -rf "$D" && cp -a "$TMP/d-ok" "$D"
sed -i "s/toyapp@sha256:$DB/toyapp@sha256:$DA/" "$D/v0.2.0.json"
out=$("$DEPLOYMENTS" render 2>&1)
rc=$?
detail=$out check "render refuses a record naming an image its app-composes do not run" \
    test "$rc" -eq 1 -a -n "$(grep -F 'image toyapp' <<<"$out")"
rm -rf "$D" && cp -a "$TMP/d-ok" "$D"
mv "$D/v0.2.0.json" "$D/v0.2.1.json"
out=$("$DEPLOYMENTS" render 2>&1)
rc=$?
detail=$out check "render refuses a record filed under another version's name" \
    test "$rc" -eq 1 -a -n "$(grep -F 'must be named v0.2.0.json' <<<"$out")"

finish

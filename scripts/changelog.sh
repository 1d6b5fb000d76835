#!/usr/bin/env bash
# Writes the changelog of a release from its conventional commits.
#
#   scripts/changelog.sh [REF]
#
# REF (default HEAD) is a release tag vX.Y.Z or any commit.  The changelog
# covers the commits reachable from REF and not from the previous release
# tag (the nearest v* tag that is an ancestor of REF's parent; all of REF's
# history if there is none), merges left out, newest first.
#
# Each commit subject is read as a conventional commit (conventionalcommits.org
# 1.0.0): TYPE[(SCOPE)][!]: DESCRIPTION.  Breaking changes come first - a
# '!' after the type or scope, or a "BREAKING CHANGE:" / "BREAKING-CHANGE:"
# footer, whose text is quoted - then one section per type, in this order:
#   feat Features, fix Bug fixes, perf Performance, refactor Refactoring,
#   docs Documentation, test Tests, build / ci Build and CI, chore Chores,
#   style Style, revert Reverts
# A subject that is not a conventional commit, or whose type is none of
# these, is listed under "Other changes" rather than dropped.  Empty
# sections are left out.
#
# Markdown on stdout: "## vX.Y.Z (YYYY-MM-DD)" for a tag (the date of the
# tagged commit, UTC), "## Unreleased" otherwise, then "Changes since vA.B.C."
# Exit 1: REF is not a commit, or this is not a git repository.  Exit 2: usage.
set -euo pipefail

PROG=changelog.sh
die() { printf '%s: %s\n' "$PROG" "$*" >&2; exit 1; }
[[ $# -le 1 && ${1:-} != -* ]] || { printf 'usage: scripts/%s [REF]\n' "$PROG" >&2; exit 2; }
ref=${1:-HEAD}

git rev-parse --git-dir >/dev/null 2>&1 || die "not inside a git repository"
commit=$(git rev-parse -q --verify "$ref^{commit}" 2>/dev/null) || die "$ref is not a commit"

prev=
if git rev-parse -q --verify "$commit^" >/dev/null; then
    prev=$(git describe --tags --abbrev=0 --match 'v[0-9]*' "$commit^" 2>/dev/null) || prev=
fi
range=$commit
[[ -z $prev ]] || range=$prev..$commit

title="Unreleased"
if [[ $ref =~ ^v[0-9] ]] && git rev-parse -q --verify "refs/tags/$ref" >/dev/null; then
    title="$ref ($(TZ=UTC0 git log -1 --date=format-local:%Y-%m-%d --format=%cd "$commit"))"
fi

# One record per commit: short hash, subject, body; fields and records are
# separated by NUL-free control characters git never puts in a commit.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
git log --no-merges --format='%h%x1f%s%x1f%b%x1e' "$range" >"$log"
python3 - "$title" "$prev" "$log" <<'EOF'
import re, sys

title, prev = sys.argv[1], sys.argv[2]
SECTIONS = [
    ("feat", "Features"), ("fix", "Bug fixes"), ("perf", "Performance"),
    ("refactor", "Refactoring"), ("docs", "Documentation"), ("test", "Tests"),
    ("build", "Build and CI"), ("ci", "Build and CI"), ("chore", "Chores"),
    ("style", "Style"), ("revert", "Reverts"),
]
HEAD = re.compile(r"(?P<type>[A-Za-z]+)(?:\((?P<scope>[^()\s][^()]*)\))?(?P<bang>!)?: (?P<desc>\S.*)")
FOOTER = re.compile(r"^BREAKING[ -]CHANGE: ?(.*)$")

breaking, groups, other = [], {}, []
data = open(sys.argv[3], encoding="utf-8", errors="replace").read()
for rec in data.split("\x1e"):
    rec = rec.strip("\n")
    if not rec:
        continue
    sha, subject, body = (rec.split("\x1f") + ["", ""])[:3]
    m = HEAD.fullmatch(subject.strip())
    # A footer runs from "BREAKING CHANGE:" to the next blank line.
    notes, cur = [], None
    for line in body.splitlines():
        f = FOOTER.match(line)
        if f:
            cur = [f.group(1).strip()]
            notes.append(cur)
        elif cur is not None and line.strip():
            cur.append(line.strip())
        else:
            cur = None
    notes = [" ".join(n).strip() for n in notes if " ".join(n).strip()]
    if not m:
        other.append("- %s (%s)" % (subject.strip(), sha))
        continue
    t = m.group("type").lower()
    scope = "**%s:** " % m.group("scope").strip() if m.group("scope") else ""
    item = "- %s%s (%s)" % (scope, m.group("desc").strip(), sha)
    if m.group("bang") or notes:
        breaking.append(item + "".join("\n  %s" % n for n in notes))
    elif t in dict(SECTIONS):
        groups.setdefault(dict(SECTIONS)[t], []).append(item)
    else:
        other.append("- %s (%s)" % (subject.strip(), sha))

out = ["## %s" % title, ""]
out.append("Changes since %s." % prev if prev else "Changes since the beginning of the history.")
out.append("")
def section(name, items):
    if items:
        out.extend(["### " + name, ""] + items + [""])
section("Breaking changes", breaking)
seen = []
for _, name in SECTIONS:
    if name not in seen:
        seen.append(name)
        section(name, groups.get(name, []))
section("Other changes", other)
if not breaking and not groups and not other:
    out.extend(["No changes.", ""])
sys.stdout.write("\n".join(out).rstrip("\n") + "\n")
EOF

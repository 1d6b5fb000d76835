#!/usr/bin/env bash
# Sets the release version of toyapp.
#
#   scripts/bump-version.sh X.Y.Z[-PRERELEASE]
#
# The version lives in one place, the file VERSION at the root of the
# repository.  Everything else reads it: the GNUmakefile passes it to the C
# build (toyapp --version, GET /version, every report's enclaveVersion), the
# workflows label the images and name the release with it, and the release
# tag is vX.Y.Z.  Nothing repeats it, so this script changes that one file.
#
# Refused, with a message and exit status 1 (nothing is written):
#   - anything but a semantic version (semver.org 2.0.0): MAJOR.MINOR.PATCH,
#     no leading zeros, an optional -PRERELEASE; build metadata (+...) is
#     not used for releases (image tags cannot hold '+');
#   - a version that is not higher than the current one (semver precedence:
#     1.2.3 < 1.3.0-rc.1 < 1.3.0), the same version included;
#   - a version whose tag vX.Y.Z already exists.
# Exit status 2: usage error.
#
# Then: commit VERSION, tag vX.Y.Z and push the tag; docs/upgrade.md is
# the whole flow.
set -euo pipefail

PROG=bump-version.sh
export LC_ALL=C # [[ < ]] compares in ASCII, as semver says
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FILE=$ROOT/VERSION

die() { printf '%s: %s\n' "$PROG" "$*" >&2; exit 1; }

if [[ $# -ne 1 || $1 == -h || $1 == --help ]]; then
    printf 'usage: scripts/%s X.Y.Z[-PRERELEASE]\n' "$PROG" >&2
    exit 2
fi
new=$1

NUM='(0|[1-9][0-9]*)'
IDENT='(0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)'
SEMVER="^$NUM\\.$NUM\\.$NUM(-$IDENT(\\.$IDENT)*)?\$"

# valid V: V is a semantic version without build metadata.
valid() { [[ $1 =~ $SEMVER ]]; }

# cmp_num A B: numeric comparison of two digit strings of any length;
# prints -1, 0 or 1.
cmp_num() {
    if ((${#1} != ${#2})); then
        ((${#1} < ${#2})) && echo -1 || echo 1
    elif [[ $1 == "$2" ]]; then
        echo 0
    elif [[ $1 < $2 ]]; then
        echo -1
    else
        echo 1
    fi
}

# cmp_ident A B: one pre-release identifier against another (semver 11.4):
# numeric ones numerically, below alphanumeric ones, which compare in ASCII.
cmp_ident() {
    local an=0 bn=0
    [[ $1 =~ ^[0-9]+$ ]] && an=1
    [[ $2 =~ ^[0-9]+$ ]] && bn=1
    if ((an && bn)); then
        cmp_num "$1" "$2"
    elif ((an)); then
        echo -1
    elif ((bn)); then
        echo 1
    elif [[ $1 == "$2" ]]; then
        echo 0
    elif [[ $1 < $2 ]]; then
        echo -1
    else
        echo 1
    fi
}

# semver_cmp A B: precedence of two valid versions; prints -1, 0 or 1.
semver_cmp() {
    local a=$1 b=$2 pa='' pb='' c i
    [[ $a == *-* ]] && pa=${a#*-} && a=${a%%-*}
    [[ $b == *-* ]] && pb=${b#*-} && b=${b%%-*}
    local -a x y
    IFS=. read -r -a x <<<"$a"
    IFS=. read -r -a y <<<"$b"
    for i in 0 1 2; do
        c=$(cmp_num "${x[i]}" "${y[i]}")
        [[ $c == 0 ]] || { echo "$c"; return; }
    done
    # A version with a pre-release is below the same version without one.
    if [[ -z $pa && -z $pb ]]; then echo 0; return; fi
    if [[ -z $pa ]]; then echo 1; return; fi
    if [[ -z $pb ]]; then echo -1; return; fi
    IFS=. read -r -a x <<<"$pa"
    IFS=. read -r -a y <<<"$pb"
    for ((i = 0; i < ${#x[@]} && i < ${#y[@]}; i++)); do
        c=$(cmp_ident "${x[i]}" "${y[i]}")
        [[ $c == 0 ]] || { echo "$c"; return; }
    done
    if ((${#x[@]} == ${#y[@]})); then echo 0
    elif ((${#x[@]} < ${#y[@]})); then echo -1
    else echo 1; fi
}

if [[ $new == *+* ]]; then
    die "$new: build metadata (+...) is not used for releases: give MAJOR.MINOR.PATCH[-PRERELEASE]"
fi
valid "$new" || die "$new is not a semantic version: expected MAJOR.MINOR.PATCH[-PRERELEASE] such as 1.4.0 or 2.0.0-rc.1, numbers without leading zeros"

[[ -f $FILE ]] || die "$FILE does not exist"
old=$(tr -d '[:space:]' <"$FILE")
valid "$old" || die "$FILE holds \"$old\", which is not a semantic version: fix it by hand first"

case $(semver_cmp "$new" "$old") in
0) die "the version is already $old" ;;
-1) die "$new is lower than the current version $old: versions only go up" ;;
esac

if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1 \
    && git -C "$ROOT" rev-parse -q --verify "refs/tags/v$new" >/dev/null; then
    die "the tag v$new already exists: that version was released"
fi

tmp=$(mktemp "$FILE.XXXXXX")
trap 'rm -f "$tmp"' EXIT
printf '%s\n' "$new" >"$tmp"
chmod 0644 "$tmp"
mv "$tmp" "$FILE"
trap - EXIT
printf 'VERSION: %s -> %s\n' "$old" "$new"
printf 'next: git commit -m "release: %s" VERSION && git tag v%s && git push origin HEAD v%s\n' "$new" "$new" "$new"

#!/usr/bin/env bash
# Pulls toyapp's current retrospective report, verifies it, and files it.
#
#   scripts/pull-report.sh BASE_URL [OUT_DIR] [--pubkey HEX | --attestation-url URL] [--allow-sim]
#
# BASE_URL is the service's API (e.g. http://127.0.0.1:8080); OUT_DIR
# defaults to reports.  Steps:
#   1. GET BASE_URL/report and BASE_URL/report.md (the same report: the
#      Markdown must name the JSON's reportId and signature).
#   2. toyctl verify-report on the JSON, with --pubkey HEX, or with the
#      attestation fetched from URL (the metadata port, e.g.
#      http://127.0.0.1:8090, or its /attestation address) under a fresh
#      random nonce, which the attestation must echo (toyctl --nonce).
#      --allow-sim goes with --attestation-url only, and on to toyctl:
#      without it a simulated (sim) attestation is refused.
#   3. When OUT_DIR already holds reports, the latest one (by generatedAt)
#      is the previous report: GET BASE_URL/log/consistency from its tree
#      size to the new one and toyctl verify-log PREVIOUS NEW --proof (and
#      --pubkey when given).  Skipped, with a note, when the previous log
#      was empty or has not grown (then its root must be the same).  The
#      proof is kept as OUT_DIR/consistency/FROM-TO.json.
#   4. toyctl car makes the report's CARv1 (its JSON and Markdown as two raw
#      blocks, their IPFS CIDs the roots, the JSON's first), and toyctl
#      verify-car checks it against the two files.
#   5. Only if every check passed: OUT_DIR/YYYY-MM-DD.json, .md and .car
#      (the UTC date of the pull), and OUT_DIR/index.md rewritten: every
#      report in OUT_DIR, newest first, with the CIDs of its JSON and
#      Markdown (toyctl cid) and its CAR.  A report already in OUT_DIR (the
#      same bytes, or the same reportId and canonical JSON) means nothing to
#      do; a different report under a reportId already filed is refused;
#      another report on a day that already has one is filed as
#      YYYY-MM-DD-REPORTID.json / .md / .car.
# Nothing is written when any check fails.  No credentials are needed or
# used: committing the files is the caller's business.
#
# Environment: TOYCTL (default: build/toyctl in this repository);
# PULL_REPORT_DATE (default: today's UTC date, YYYY-MM-DD), the date in the
# file names.
# Exit status: 0 filed or nothing to do; 1 a fetch or check failed, or a
# conflict with a file in OUT_DIR; 2 usage.
set -euo pipefail

PROG=pull-report
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

say() { printf '%s: %s\n' "$PROG" "$*"; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }
usage() {
    cat <<EOF
usage: scripts/pull-report.sh BASE_URL [OUT_DIR=reports] [--pubkey HEX | --attestation-url URL] [--allow-sim]

Fetches BASE_URL/report and /report.md, verifies the report with toyctl
(and, when OUT_DIR holds an earlier report, that the log extends it), makes
its CAR for IPFS, and only then writes OUT_DIR/YYYY-MM-DD.json, .md and .car
and rewrites OUT_DIR/index.md (every report with its IPFS CIDs).
Environment: TOYCTL (default build/toyctl), PULL_REPORT_DATE (default: today, UTC).
EOF
}
usage_error() { printf '%s: %s\n' "$PROG" "$*" >&2; usage >&2; exit 2; }

# ---- arguments ----------------------------------------------------------------

base_url='' out_dir='' pubkey='' att_url='' allow_sim=0
while (($#)); do
    case $1 in
        -h | --help) usage; exit 0 ;;
        --pubkey)
            (($# >= 2)) || usage_error "--pubkey needs a value"
            pubkey=$2; shift 2 ;;
        --pubkey=*) pubkey=${1#*=}; shift ;;
        --attestation-url)
            (($# >= 2)) || usage_error "--attestation-url needs a value"
            att_url=$2; shift 2 ;;
        --attestation-url=*) att_url=${1#*=}; shift ;;
        --allow-sim) allow_sim=1; shift ;;
        -*) usage_error "unknown option $1" ;;
        *)
            if [[ -z $base_url ]]; then base_url=$1
            elif [[ -z $out_dir ]]; then out_dir=$1
            else usage_error "unexpected argument $1"; fi
            shift ;;
    esac
done
[[ -n $base_url ]] || usage_error "BASE_URL is required"
[[ $base_url =~ ^https?://[^[:space:]]+$ ]] || usage_error "BASE_URL must be an http:// or https:// URL, got '$base_url'"
base_url=${base_url%/}
out_dir=${out_dir:-reports}
[[ -n $pubkey && -n $att_url ]] && usage_error "give --pubkey or --attestation-url, not both"
if [[ -n $pubkey ]]; then
    [[ $pubkey =~ ^[0-9a-fA-F]{64}$ ]] || usage_error "--pubkey must be 64 hex digits (an Ed25519 public key)"
fi
if ((allow_sim)) && [[ -z $att_url ]]; then
    usage_error "--allow-sim applies to --attestation-url only"
fi
if [[ -n $att_url ]]; then
    [[ $att_url =~ ^https?://[^[:space:]]+$ ]] || usage_error "--attestation-url must be an http:// or https:// URL"
    att_url=${att_url%/}
    [[ $att_url == */attestation ]] || att_url+=/attestation
fi
day=${PULL_REPORT_DATE:-$(date -u +%F)}
[[ $day =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]] || usage_error "PULL_REPORT_DATE must be YYYY-MM-DD, got '$day'"

TOYCTL=${TOYCTL:-$ROOT/build/toyctl}
if ! command -v "$TOYCTL" >/dev/null 2>&1; then
    die "toyctl not found at $TOYCTL (build it with 'make build/toyctl', or set TOYCTL)"
fi
for tool in curl python3 cmp; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is required"
done
if [[ -e $out_dir && ! -d $out_dir ]]; then
    die "$out_dir exists and is not a directory"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/pull-report.XXXXXX")
staged=()
cleanup() {
    local f
    for f in "${staged[@]}"; do rm -f -- "$f"; done
    rm -rf -- "$work"
}
trap cleanup EXIT

# ---- helpers ------------------------------------------------------------------

# fetch URL OUT: GET with timeouts and a few retries on transient errors
# (timeouts, 408, 429, 5xx; curl honours Retry-After).  Any HTTP error fails.
fetch() {
    local url=$1 out=$2 code
    if ! code=$(curl --silent --show-error --fail-with-body --proto '=http,https' \
        --max-filesize 10000000 --connect-timeout 10 --max-time 60 --retry 3 --retry-delay 2 --retry-max-time 120 \
        -o "$out" -w '%{http_code}' -- "$url"); then
        printf '%s: error: GET %s failed (HTTP %s)\n' "$PROG" "$url" "${code:-none}" >&2
        if [[ -s $out ]]; then
            head -c 400 -- "$out" | sed 's/^/    /' >&2
            echo >&2
        fi
        exit 1
    fi
}

# fields FILE PATH...: prints each dotted PATH of the JSON object in FILE on
# its own line (null as "null"); fails if FILE is not a JSON object or lacks
# one of them.
fields() {
    python3 - "$@" <<'EOF'
import json, sys
path = sys.argv[1]
try:
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
except (OSError, ValueError) as e:
    sys.exit("%s is not JSON: %s" % (path, e))
if not isinstance(doc, dict):
    sys.exit("%s is not a JSON object" % path)
for want in sys.argv[2:]:
    v = doc
    for k in want.split("."):
        if not isinstance(v, dict) or k not in v:
            sys.exit("%s has no field %s" % (path, want))
        v = v[k]
    if v is None:
        print("null")
    elif isinstance(v, bool):
        print("true" if v else "false")
    elif isinstance(v, (str, int)):
        s = str(v)
        if "\n" in s:
            sys.exit("%s: field %s holds a line break" % (path, want))
        print(s)
    else:
        sys.exit("%s: field %s is not a string or an integer" % (path, want))
EOF
}

# scan MODE ARG FILE...: reads every report FILE once.  MODE latest: prints
# the one with the latest generatedAt; MODE id: prints the first whose
# reportId is ARG (or nothing).  Fails if a FILE is not a report.
scan() {
    python3 - "$@" <<'EOF'
import json, sys
mode, arg, paths = sys.argv[1], sys.argv[2], sys.argv[3:]
best = None
for path in paths:
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        at, rid = doc["generatedAt"], doc["reportId"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        sys.exit("%s is not a report: %s" % (path, e))
    if not isinstance(at, str) or not isinstance(rid, str):
        sys.exit("%s is not a report: generatedAt or reportId is not a string" % path)
    if mode == "id" and rid == arg:
        print(path)
        break
    if best is None or at > best[0]:
        best = (at, path)
if mode == "latest":
    print(best[1])
EOF
}
latest() { scan latest - "$@"; }
with_id() { scan id "$@"; }

# run_toyctl ARGS...: runs toyctl, indenting its lines; returns its status.
run_toyctl() {
    local rc=0
    "$TOYCTL" "$@" >"$work/toyctl.out" 2>&1 || rc=$?
    sed 's/^/    /' "$work/toyctl.out"
    return "$rc"
}

# ---- 1. fetch -----------------------------------------------------------------

new=$work/report.json md=$work/report.md
# The service makes one report per period; if a period ends between the two
# requests, the Markdown is of the next report: fetch both again.
for attempt in 1 2 3; do
    fetch "$base_url/report" "$new"
    fetch "$base_url/report.md" "$md"
    out=$(fields "$new" reportId signature treeHead.treeSize treeHead.root generatedAt) \
        || die "$base_url/report did not return a report"
    mapfile -t f <<<"$out"
    report_id=${f[0]} signature=${f[1]} tree_size=${f[2]} root=${f[3]}
    if grep -qF -- "$report_id" "$md" && grep -qF -- "$signature" "$md"; then
        break
    fi
    ((attempt < 3)) || die "$base_url/report.md is not the report $report_id that $base_url/report served"
    sleep 1
done
[[ $report_id =~ ^[A-Za-z0-9._-]{1,64}$ ]] || die "reportId '$report_id' is not usable in a file name"
[[ $tree_size =~ ^[0-9]+$ ]] || die "treeHead.treeSize '$tree_size' is not a whole number"
say "fetched $report_id (log size $tree_size, generated ${f[4]}) from $base_url"

# ---- 2. verify the report -------------------------------------------------------

verify=(verify-report "$new")
if [[ -n $pubkey ]]; then
    verify+=(--pubkey "$pubkey")
elif [[ -n $att_url ]]; then
    nonce=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
    [[ $nonce =~ ^[0-9a-f]{64}$ ]] || die "could not draw a random nonce"
    fetch "$att_url?nonce=$nonce" "$work/attestation.json"
    got=$(fields "$work/attestation.json" nonce) || die "$att_url did not return an attestation"
    [[ $got == "$nonce" ]] || die "the attestation from $att_url is for nonce '$got', not the fresh nonce $nonce (replayed?)"
    say "fetched an attestation for nonce $nonce from $att_url"
    verify+=(--attestation "$work/attestation.json" --nonce "$nonce")
    ((allow_sim)) && verify+=(--allow-sim)
else
    say "warning: neither --pubkey nor --attestation-url: the signature is checked against the key inside the report only, which proves nothing about who signed it"
fi
shown=("${verify[@]}")
shown[1]=report.json
[[ -z $att_url ]] || shown[3]=attestation.json
say "toyctl ${shown[*]}"
run_toyctl "${verify[@]}" || die "report $report_id does not verify: nothing written"

# ---- 3. already filed? -----------------------------------------------------------

shopt -s nullglob
existing=("$out_dir"/[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*.json)
shopt -u nullglob
for e in "${existing[@]}"; do
    if cmp -s -- "$new" "$e"; then
        say "$e is this report already: nothing to do"
        exit 0
    fi
done
# A file with the same reportId is the same report if its canonical JSON is
# (someone may have reformatted it); otherwise there are two different
# signed reports under one name: refuse, and keep what is filed.
if ((${#existing[@]})); then
    same=$(with_id "$report_id" "${existing[@]}") || die "$out_dir holds a file that is not a report"
    if [[ -n $same ]]; then
        canon_new=$("$TOYCTL" canonical "$new") || die "toyctl canonical failed on the new report"
        canon_old=$("$TOYCTL" canonical "$same") || die "$same is not valid JSON"
        if [[ $canon_new == "$canon_old" ]]; then
            say "$same is this report already (the same canonical JSON): nothing to do"
            exit 0
        fi
        die "$same holds a different report under the same reportId $report_id: refusing to overwrite it"
    fi
fi

# ---- 4. the previous report: does the log extend it? ---------------------------

prev=''
if ((${#existing[@]})); then
    prev=$(latest "${existing[@]}") || die "$out_dir holds a file that is not a report"
fi
proof_file=
if [[ -z $prev ]]; then
    say "no earlier report in $out_dir: no consistency check"
else
    out=$(fields "$prev" reportId treeHead.treeSize treeHead.root) || die "$prev is not a report"
    mapfile -t p <<<"$out"
    prev_id=${p[0]} prev_size=${p[1]} prev_root=${p[2]}
    [[ $prev_size =~ ^[0-9]+$ ]] || die "$prev: treeHead.treeSize '$prev_size' is not a whole number"
    say "previous report: $prev_id in $prev (log size $prev_size)"
    if ((tree_size < prev_size)); then
        die "the log shrank: $report_id has $tree_size entries, $prev_id had $prev_size: nothing written"
    elif ((prev_size == tree_size)); then
        [[ $root == "$prev_root" ]] \
            || die "the log has $tree_size entries in both reports but different roots ($prev_root, $root): history was rewritten; nothing written"
        say "note: the log has not grown since $prev_id (same size $tree_size, same root): skipping verify-log"
    else
        proof=$work/consistency.json
        fetch "$base_url/log/consistency?from=$prev_size&to=$tree_size" "$proof"
        log_check=(verify-log "$prev" "$new" --proof "$proof")
        [[ -z $pubkey ]] || log_check+=(--pubkey "$pubkey")
        say "toyctl verify-log $prev report.json --proof consistency.json${pubkey:+ --pubkey $pubkey} ($prev_size -> $tree_size)"
        run_toyctl "${log_check[@]}" \
            || die "the log of $report_id does not extend that of $prev_id: nothing written"
        proof_file=$out_dir/consistency/$prev_size-$tree_size.json
    fi
fi

# ---- 5. the CAR and the index ----------------------------------------------------

taken() { [[ -e $out_dir/$1.json || -e $out_dir/$1.md || -e $out_dir/$1.car ]]; }
name=$day
if taken "$name"; then
    name=$day-$report_id
fi
if taken "$name"; then
    die "$out_dir/$name.json, .md or .car exists and holds another report: refusing to overwrite it"
fi

# One CAR for the report: the JSON (the signed report) and the Markdown (its
# rendering) travel together, and `ipfs dag import` of the CAR keeps both.
car=$work/report.car
"$TOYCTL" car "$car" "$new" "$md" || die "toyctl car could not make the CAR of $report_id: nothing written"
say "toyctl verify-car $name.car $name.json $name.md"
run_toyctl verify-car "$car" "$new" "$md" || die "the CAR of $report_id does not verify: nothing written"
mapfile -t cids < <("$TOYCTL" cid "$new" "$md")
((${#cids[@]} == 2)) || die "toyctl cid failed on the files of $report_id: nothing written"
say "IPFS CIDs: $name.json ${cids[0]}, $name.md ${cids[1]}"

# index TOYCTL (NAME JSON MARKDOWN HAS_CAR)...: prints the index.md of these
# reports (MARKDOWN may be empty; HAS_CAR is 1 or 0), newest first, with the
# CIDs that toyctl cid gives their files.
index() {
    python3 - "$@" <<'EOF'
import json, subprocess, sys
toyctl, args = sys.argv[1], sys.argv[2:]
rows, files = [], []
for i in range(0, len(args), 4):
    name, js, md, car = args[i:i + 4]
    try:
        with open(js, encoding="utf-8") as f:
            doc = json.load(f)
        rows.append([name, str(doc["reportId"]), str(doc["generatedAt"]),
                     str(doc["treeHead"]["treeSize"]), md, car == "1"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        sys.exit("%s is not a report: %s" % (js, e))
    files += [js] + ([md] if md else [])
p = subprocess.run([toyctl, "cid", "--"] + files, capture_output=True, text=True)
cids = p.stdout.split()
if p.returncode != 0 or len(cids) != len(files):
    sys.exit("toyctl cid failed: " + p.stderr.strip())
k = 0
for row in rows:
    row += [cids[k], cids[k + 1] if row[4] else None]
    k += 2 if row[4] else 1
rows.sort(key=lambda r: (r[2], r[0]), reverse=True)
def cell(s):
    return s.replace("|", "\\|").replace("\n", " ")
print("""# Index of the reports

<!-- Written by scripts/pull-report.sh each time it files a report: do not edit. -->

Every report in this folder, newest first, with the IPFS CIDs of its two
files. Each CID is CIDv1, raw, sha2-256, base32: the SHA-256 of the file's
exact bytes, which `toyctl cid FILE` recomputes, and the name under which any
IPFS node that holds the file serves it. Each `.car` holds both files, for
`ipfs dag import`. How to check them: [README.md](README.md#ipfs).

| report | generatedAt | log size | JSON CID | Markdown CID | CAR |
|---|---|---|---|---|---|""")
for name, rid, at, size, md, car, jcid, mcid in rows:
    print("| [%s](%s.json) | %s | %s | `%s` | %s | %s |" % (
        cell(rid), name, cell(at), cell(size), jcid,
        "[`%s`](%s.md)" % (mcid, name) if mcid else "none",
        "[%s.car](%s.car)" % (name, name) if car else "none"))
EOF
}
entries=()
for e in "${existing[@]}"; do
    base=${e%.json} m='' c=0
    [[ -f $base.md ]] && m=$base.md
    [[ -f $base.car ]] && c=1
    entries+=("${base##*/}" "$e" "$m" "$c")
done
entries+=("$name" "$new" "$md" 1)
index "$TOYCTL" "${entries[@]}" >"$work/index.md" || die "could not make the index of $out_dir: nothing written"

# ---- 6. file it ----------------------------------------------------------------

# stage SRC DEST: copies SRC next to DEST as a temporary file, named in
# $staged_file, to be renamed into place (a rename within a file system is
# atomic: a reader never sees half a file).
stage() {
    staged_file=$(mktemp "$(dirname -- "$2")/.pull-report.XXXXXX")
    staged+=("$staged_file")
    cp -- "$1" "$staged_file"
    chmod 0644 "$staged_file"
}
mkdir -p -- "$out_dir"
if [[ -n $proof_file ]]; then
    mkdir -p -- "$out_dir/consistency"
    stage "$proof" "$proof_file"
    mv -f -- "$staged_file" "$proof_file"
    say "wrote $proof_file"
fi
stage "$md" "$out_dir/$name.md"
t_md=$staged_file
stage "$car" "$out_dir/$name.car"
t_car=$staged_file
stage "$new" "$out_dir/$name.json"
t_json=$staged_file
stage "$work/index.md" "$out_dir/index.md"
t_index=$staged_file
mv -f -- "$t_md" "$out_dir/$name.md"
mv -f -- "$t_car" "$out_dir/$name.car"
mv -f -- "$t_json" "$out_dir/$name.json" # after its companions: the JSON is the report
mv -f -- "$t_index" "$out_dir/index.md"
say "wrote $out_dir/$name.json, .md and .car ($report_id), and $out_dir/index.md"

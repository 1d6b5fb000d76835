#!/usr/bin/env bash
# Renders the dstack app-compose.json of one CVM role from deploy/.
#
#   scripts/app-compose.sh [-o FILE] [-c FILE] ROLE NAME=IMAGE@sha256:DIGEST...
#
# ROLE is a folder of deploy/ (app, pg-primary, pg-replica) holding
#   docker-compose.yml  the containers; our own images appear as ${NAME}
#                       (TOYAPP_IMAGE, TOY_ATTESTD_IMAGE)
#   manifest.json       the rest of the app-compose (manifest_version, name,
#                       runner, kms_enabled, allowed_envs, ...)
# Each NAME=REF replaces ${NAME} in the compose file; REF must name the image
# by digest.  The result is manifest.json plus the rendered compose file as
# docker_compose_file, written in dstack's deterministic form (keys sorted,
# no white space, UTF-8, no trailing newline): what dstack's SDKs write, so
# the compose hash of the file (toyctl compose-hash) is the same whether a
# tool deploys these bytes or rebuilds them from the manifest.
#
# Refused (exit 1, nothing written): an unknown role; a REF not pinned by
# digest; a NAME the compose file does not use, or one it uses that is not
# given; any image in the result not pinned by digest; a manifest that sets
# docker_compose_file itself.  Exit 2: usage.
#
# Prints to stdout, or with -o FILE writes FILE (atomically).  -c FILE also
# writes the rendered docker-compose.yml alone (the docker_compose_file
# member, byte for byte): what a deploy tool that takes a compose file is
# given.
# Env: DEPLOY_DIR (default: deploy/ of this repository).
set -euo pipefail

PROG=app-compose.sh
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEPLOY_DIR=${DEPLOY_DIR:-$ROOT/deploy}

usage() {
    printf 'usage: scripts/%s [-o FILE] [-c FILE] ROLE NAME=IMAGE@sha256:DIGEST...\n' "$PROG" >&2
    exit 2
}

out='' cout=''
while [[ ${1:-} == -o || ${1:-} == -c ]]; do
    [[ $# -ge 2 ]] || usage
    if [[ $1 == -o ]]; then out=$2; else cout=$2; fi
    shift 2
done
[[ $# -ge 1 && ${1:-} != -* ]] || usage
role=$1
shift
if [[ ! $role =~ ^[a-z0-9][a-z0-9-]*$ || ! -f $DEPLOY_DIR/$role/docker-compose.yml || ! -f $DEPLOY_DIR/$role/manifest.json ]]; then
    printf '%s: no role %s: deploy/ROLE needs docker-compose.yml and manifest.json\n' "$PROG" "$role" >&2
    exit 1
fi

if [[ -n $out ]]; then tmp=$(mktemp "$out.XXXXXX"); else tmp=$(mktemp); fi
trap 'rm -f "$tmp"' EXIT
python3 - "$DEPLOY_DIR/$role" "$tmp" "$cout" "$@" <<'EOF'
import json, os, re, sys

folder, dest, cdest, pairs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
PROG = "app-compose.sh"
DIGEST = r"[a-z0-9]+(?:[._/-][a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?@sha256:[0-9a-f]{64}"

def die(msg):
    sys.stderr.write("%s: %s\n" % (PROG, msg))
    sys.exit(1)

images = {}
for p in pairs:
    name, eq, ref = p.partition("=")
    if not eq or not re.fullmatch(r"[A-Z][A-Z0-9_]*_IMAGE", name):
        die("%s: expected NAME=IMAGE@sha256:DIGEST with NAME ending in _IMAGE" % p)
    if not re.fullmatch(DIGEST, ref):
        die("%s=%s: an image must be named by digest (REPOSITORY[:TAG]@sha256:64 hex digits)" % (name, ref))
    if name in images:
        die("%s given twice" % name)
    images[name] = ref

with open(folder + "/docker-compose.yml", encoding="utf-8") as f:
    compose = f.read()
used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*_IMAGE)\}", compose))
for name in sorted(used - set(images)):
    die("the compose file uses ${%s}: give %s=IMAGE@sha256:DIGEST" % (name, name))
for name in sorted(set(images) - used):
    die("%s is not used by %s/docker-compose.yml" % (name, folder))
for name, ref in images.items():
    compose = compose.replace("${%s}" % name, ref)
for line in compose.splitlines():
    m = re.match(r"\s*image:\s*(\S+)\s*$", line)
    if m and not re.fullmatch(DIGEST, m.group(1).strip("'\"")):
        die("image %s is not pinned by digest" % m.group(1))

with open(folder + "/manifest.json", encoding="utf-8") as f:
    manifest = json.load(f)
if not isinstance(manifest, dict):
    die("manifest.json must be a JSON object")
if "docker_compose_file" in manifest:
    die("manifest.json must not set docker_compose_file: it comes from docker-compose.yml")
manifest["docker_compose_file"] = compose
text = json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
with open(dest, "w", encoding="utf-8") as f:
    f.write(text)
if cdest:
    with open(cdest + ".tmp", "w", encoding="utf-8") as f:
        f.write(compose)
    os.replace(cdest + ".tmp", cdest)
EOF

if [[ -z $out ]]; then
    cat "$tmp"
else
    chmod 0644 "$tmp"
    mv "$tmp" "$out"
    trap - EXIT
fi

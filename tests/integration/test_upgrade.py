#!/usr/bin/env python3
"""test_upgrade — the upgrade rehearsal of docs/upgrade.md: release A runs on
a Postgres primary and synchronous replica with a local chain, release B
(bumped, its compose file changed, built apart) is registered and takes A's
place on the same database, release C is never registered and refused.

The steps are scripts/upgrade-demo.sh's (what `make upgrade-demo` narrates):
this test runs it in a temporary directory, counts each of its checks as one
of its own, requires the checks of every step to be there, and then checks
what the rehearsal left, apart from toyctl where it can: the versions and
binaries, each compose hash recomputed from the app-compose file, what
changed between A's and B's compose files, the two reports, the history,
the RFC 9162 inclusion and consistency proofs recomputed here, C's refusal;
tampered copies are refused; and nothing the rehearsal started is left
running.  KEEP=1 keeps the directory."""
import hashlib, json, os, re, shutil, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from itlib import ROOT, BUILD, TOYCTL, check, summary, verify_consistency, verify_inclusion  # noqa: E402

TOYCTL = os.path.join(ROOT, TOYCTL)   # unchanged when absolute

DEMO = os.path.join(ROOT, "scripts", "upgrade-demo.sh")
# The checks each step of the rehearsal must have passed (a substring of
# each): a rehearsal that skipped a step fails here.
STEPS = [
    "the version in VERSION",
    "A's compose hash is registered",
    "A's report names A",
    "B's compose hash differs from A's",
    "toyctl register-compose: B's compose hash is allowed",
    "toyctl history lists A -> B",
    "show the change",
    "B signs with A's key",
    "scripts/smoke.sh: B runs the registered compose hash",
    "toyctl compare-instances: B's quote measures b/app-compose.json",
    "B's report names B",
    "B's report follows A's",
    "toyctl verify-log",
    "C does not start",
    "the sim KMS gate names C's compose hash",
    "C wrote nothing",
]


def load(*p):
    with open(os.path.join(D, *p)) as f:
        return json.load(f)


def read(*p):
    with open(os.path.join(D, *p), "rb") as f:
        return f.read()


def toyctl(*args):
    r = subprocess.run([TOYCTL] + list(args), capture_output=True, text=True, timeout=60, cwd=D)
    return r.returncode, r.stdout + r.stderr


def leftovers(d):
    """Processes whose working directory or command line is under d."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cwd = os.readlink("/proc/%s/cwd" % pid)
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if cwd == d or cwd.startswith(d + "/") or d in cmd:
            found.append("%s %s" % (pid, cmd[:120]))
    return found


def semver_core(v):
    return tuple(int(x) for x in v.split("-")[0].split("."))


tmp = tempfile.mkdtemp(prefix="toyapp-upgrade-it-")
os.chmod(tmp, 0o755)
D = os.path.join(tmp, "demo")
try:
    t0 = time.time()
    r = subprocess.run([DEMO, "--dir", D], capture_output=True, text=True, timeout=600,
                       env=dict(os.environ, BUILD=os.path.relpath(BUILD, ROOT), TOYCTL=TOYCTL))
    took = time.time() - t0
    lines = (r.stdout + r.stderr).splitlines()
    passed = []
    for line in lines:
        if line.startswith("ok ") or line.startswith("FAIL "):
            check(line.startswith("ok "), "rehearsal: " + line.split(None, 1)[1])
            if line.startswith("ok "):
                passed.append(line)
        else:
            print("      | " + line)
    check(r.returncode == 0 and lines and re.fullmatch(r"[0-9]+ passed, 0 failed", lines[-1]),
          "scripts/upgrade-demo.sh ends with nothing failed, exit 0 (exit %d, %.0fs)" % (r.returncode, took))
    missing = [s for s in STEPS if not any(s in l for l in passed)]
    check(not missing, "every step of the rehearsal ran and passed (missing: %s)" % missing)
    check(not leftovers(D), "nothing the rehearsal started is still running: %s" % leftovers(D)[:3])
    if missing or not os.path.isdir(os.path.join(D, "c")):
        sys.exit(summary())

    # ---- the releases: versions and binaries -----------------------------------------------------
    va = open(os.path.join(ROOT, "VERSION")).read().strip()
    vb = read("b", "tree", "VERSION").decode().strip()
    vc = read("c", "tree", "VERSION").decode().strip()
    check(semver_core(va) < semver_core(vb) < semver_core(vc),
          "bump-version.sh raised the version in each copy: %s < %s < %s" % (va, vb, vc))
    got = [subprocess.run([os.path.join(D, n, "toyapp"), "--version"], capture_output=True, text=True,
                          timeout=10).stdout.strip() for n in "abc"]
    check(got == ["toyapp " + v for v in (va, vb, vc)], "each release's binary has its version compiled in: %s" % got)
    bins = [hashlib.sha256(read(n, "toyapp")).hexdigest() for n in "abc"]
    check(len(set(bins)) == 3, "the three binaries differ")

    # ---- the compose files and their hashes -----------------------------------------------------
    h = {n: hashlib.sha256(read(n, "app-compose.json")).hexdigest() for n in "abc"}
    check(len(set(h.values())) == 3, "three app-composes, three compose hashes")
    comp = {n: load(n, "app-compose.json") for n in "abc"}
    manifests = [{k: v for k, v in comp[n].items() if k != "docker_compose_file"} for n in "abc"]
    check(manifests[0] == manifests[1] == manifests[2], "the manifests are the same; the compose files differ")
    ya, yb = (comp[n]["docker_compose_file"].splitlines() for n in "ab")
    changed = sorted(set(ya) ^ set(yb))
    check(any(l.strip() == 'GROUP_COMMIT_MAX: "128"' for l in yb) and
          any(l.strip() == "image: local/toyapp@sha256:" + bins[1] for l in yb) and
          any(l.strip() == "image: local/toyapp@sha256:" + bins[0] for l in ya) and
          all("GROUP_COMMIT_MAX" in l or bins[0] in l or bins[1] in l for l in changed),
          "B's compose file differs from A's in its image digest (its binary) and GROUP_COMMIT_MAX only")

    # ---- what the instances said, and the reports ----------------------------------------------
    vera, verb = load("a", "version.json"), load("b", "version.json")
    check((vera["version"], vera["composeHash"], verb["version"], verb["composeHash"]) == (va, h["a"], vb, h["b"]),
          "/version: A said %s and A's compose hash, B %s and B's" % (va, vb))
    check(load("a", "compose-hash.json")["composeHash"] == h["a"] and
          load("b", "compose-hash.json")["composeHash"] == h["b"], "/compose-hash: A's, then B's")
    ra, rb = load("a", "report.json"), load("b", "report.json")
    check((ra["enclaveVersion"], ra["composeHash"]) == (va, h["a"]), "A's report names A's version and compose hash")
    check((rb["enclaveVersion"], rb["composeHash"]) == (vb, h["b"]), "B's report names B's version and compose hash")
    check(rb["previousReportId"] == ra["reportId"] and rb["previousTreeSize"] == ra["treeHead"]["treeSize"]
          and rb["publicKey"] == ra["publicKey"], "B's report follows A's, under the same key")
    check(rb["treeHead"]["treeSize"] > ra["treeHead"]["treeSize"] and rb["summary"]["window"]["usersProcessed"] == 2
          and rb["summary"]["totalUsersProcessed"] == 5,
          "B's report counts B's 2 submissions in its window, 5 in total (%s, %s)"
          % (rb["summary"]["window"]["usersProcessed"], rb["summary"]["totalUsersProcessed"]))

    # ---- the history --------------------------------------------------------------------------
    rows = [l.split()[2:5] for l in read("history.txt").decode().splitlines() if re.match(r"[0-9]+ ", l)]
    check(rows == [["added", va, "0x" + h["a"]], ["added", vb, "0x" + h["b"]]],
          "toyctl history: A added, then B, and nothing else (C never): %s" % rows)

    # ---- the proofs, recomputed here (RFC 9162) -----------------------------------------------
    good = 0
    for i in (1, 2, 3):
        rc, pr = load("a", "receipt-%d.json" % i), load("b", "proof-a-%d.json" % i)
        entry = json.dumps(rc["auditEntry"], separators=(",", ":"), sort_keys=True).encode()
        leaf = hashlib.sha256(b"\x00" + entry).digest()
        good += (pr["leafHash"] == leaf.hex() and pr["treeSize"] >= rb["treeHead"]["treeSize"] and
                 verify_inclusion(pr["leafIndex"], pr["treeSize"], leaf, [bytes.fromhex(x) for x in pr["path"]],
                                  bytes.fromhex(pr["treeHead"]["root"])))
    check(good == 3, "A's 3 receipts are in the log B serves (inclusion recomputed here): %d of 3" % good)
    cp = load("b", "consistency.json")
    ma, mb = ra["treeHead"], rb["treeHead"]
    path = [bytes.fromhex(x) for x in cp["path"]]
    check(verify_consistency(ma["treeSize"], mb["treeSize"], bytes.fromhex(ma["root"]), bytes.fromhex(mb["root"]), path),
          "B's log extends A's (consistency %d -> %d recomputed here)" % (ma["treeSize"], mb["treeSize"]))
    bad_root = bytes.fromhex(ma["root"])[:-1] + bytes([bytes.fromhex(ma["root"])[-1] ^ 1])
    check(not verify_consistency(ma["treeSize"], mb["treeSize"], bad_root, bytes.fromhex(mb["root"]), path),
          "... and not with A's root changed in one bit")

    # ---- tampered evidence is refused -------------------------------------------------------
    code, out = toyctl("verify-log", "b/report.json", "a/report.json", "--proof", "b/consistency.json")
    check(code == 1, "toyctl verify-log refuses the reports the other way round")
    forged = dict(rb, composeHash=h["c"])
    with open(os.path.join(D, "forged-report.json"), "w") as f:
        json.dump(forged, f)
    code, out = toyctl("verify-report", "forged-report.json", "--pubkey", ra["publicKey"])
    check(code == 1 and "FAIL report: signature" in out, "toyctl verify-report refuses B's report naming C's hash")
    code, out = toyctl("verify-receipt", "a/receipt-1.json", "--proof", "b/proof-a-1.json", "--payload",
                       read("a", "payload-2.txt").decode())
    check(code == 1, "toyctl verify-receipt refuses A's receipt with another user's payload")

    # ---- C ------------------------------------------------------------------------------------
    refused = read("c", "refused.txt").decode()
    check(read("c", "status").decode().strip() == "2" and "compose hash %s is not registered" % h["c"] in refused
          and "toyctl register-compose %s --version VERSION" % h["c"] in refused and "listening" not in refused,
          "C exited 2 before listening, naming its compose hash (SHA-256 of c/app-compose.json) and the command")
    print("elapsed: %.0fs (the rehearsal %.0fs)" % (time.time() - t0, took))
finally:
    if os.environ.get("KEEP"):
        print("kept", tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)

sys.exit(summary())

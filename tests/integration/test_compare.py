#!/usr/bin/env python3
"""toyctl compare-instances on the local topology: real toyapp processes on
127.0.0.1 with a real Postgres primary and streaming replica
(postgres/cluster.sh, through itlib.Topology), and a toy-attestd beside
each Postgres node for its role (pg-primary, pg-replica), all with the sim
TEE provider, and the sim collateral (toyctl sim-collateral).  Each role
runs its own app-compose, rendered from deploy/ (scripts/app-compose.sh).

Checks:
  - two app instances, a pg-primary and a pg-replica, each role with its
    compose file: every check passes (exit 0), the table lists the four
    with their TCB status, and --json says the same;
  - an app instance started with another compose file: exit 1, and the
    failure names that instance (its label and URL), in the table too;
  - an attestation replayed with an old nonce (a relay on 127.0.0.1 that
    answers /attestation with a recorded response): exit 1, named;
  - an https:// URL (a TLS relay on 127.0.0.1 with a certificate trusted
    through SSL_CERT_FILE) passes; one whose certificate is not trusted fails;
  - no --allow-sim: refused; no --collateral: the TCB status is not checked
    (said), the rest passes; a mislabelled role and a dead URL: exit 1.
Ends with "N passed, M failed".  Env: BUILD (default build), TOYCTL."""
import hashlib, http.server, json, os, ssl, subprocess, sys, threading, urllib.error, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from itlib import BUILD, ROOT, TOYCTL, Topology, check as it_check, summary  # noqa: E402


def check(cond, what, detail=""):
    """itlib's check, showing on failure the FAIL lines of the output and
    its end."""
    if not it_check(cond, what) and detail:
        print("\n".join(l for l in detail.splitlines() if l.startswith("FAIL"))[:3000])
        print(detail[-1500:])
    return cond


T = Topology(nports=15)
A1, A2, PP, PR, A3, RELAY, DEAD = T.ports[3:10]
API = T.ports[10:15]
# Each role's app-compose, rendered from deploy/ as a deployment renders it
# (scripts/app-compose.sh), with our images named by made-up digests; "other"
# is the app role with another toyapp image.
composes = {}
for name, role, image in (("app", "app", "TOYAPP_IMAGE=ghcr.io/example/toyapp@sha256:" + "1" * 64),
                          ("other", "app", "TOYAPP_IMAGE=ghcr.io/example/toyapp@sha256:" + "2" * 64),
                          ("pg-primary", "pg-primary", "TOY_ATTESTD_IMAGE=ghcr.io/example/toy-attestd@sha256:" + "3" * 64),
                          ("pg-replica", "pg-replica", "TOY_ATTESTD_IMAGE=ghcr.io/example/toy-attestd@sha256:" + "3" * 64)):
    composes[name] = os.path.join(T.tmp, name + ".app-compose.json")
    subprocess.run([os.path.join(ROOT, "scripts", "app-compose.sh"), "-o", composes[name], role, image], check=True)


def start(meta, role, compose, cvm):
    """An instance of role: toyapp for the app (SEQUENCER=0: the test writes
    nothing), toy-attestd for a Postgres role; its metadata port, its compose
    file; one seed and app id for all."""
    if role == "app":
        return T.start_toyapp(API.pop(), meta, cvm, {"TOYAPP_COMPOSE_FILE": compose, "SEQUENCER": "0"})
    return T.start_attestd(meta, cvm, role, {"TOYAPP_COMPOSE_FILE": compose})


def toyctl(*args):
    r = subprocess.run([TOYCTL] + list(args), capture_output=True, text=True, timeout=120)
    return r.returncode, r.stdout, r.stderr


def url(port):
    return "http://127.0.0.1:%d" % port


class Forward(http.server.BaseHTTPRequestHandler):
    """Forwards every GET to the real instance (behind TLS, for https)."""
    target = 0

    def do_GET(self):
        body = urllib.request.urlopen(url(Forward.target) + self.path, timeout=10).read()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Relay(http.server.BaseHTTPRequestHandler):
    """Forwards /info to the real instance; answers /attestation with the
    response recorded earlier for another nonce."""
    recorded = b""
    target = 0

    def do_GET(self):
        if self.path.startswith("/attestation"):
            body = Relay.recorded
        else:
            body = urllib.request.urlopen(url(Relay.target) + self.path, timeout=10).read()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


try:
    T.start_cluster()
    start(A1, "app", composes["app"], "app-a")
    start(A2, "app", composes["app"], "app-b")
    start(PP, "pg-primary", composes["pg-primary"], "pg-primary")
    start(PR, "pg-replica", composes["pg-replica"], "pg-replica")
    start(A3, "app", composes["other"], "app-other")

    col = os.path.join(T.tmp, "collateral.json")
    rc, out, err = toyctl("sim-collateral", "--seed", os.path.join(T.tmp, "seed"))
    with open(col, "w") as f:
        f.write(out)
    check(rc == 0 and json.loads(out)["tcb_info"], "toyctl sim-collateral writes the sim platform's collateral", err)

    topo = ["--app", url(A1), "--app", url(A2), "--pg-primary", url(PP), "--pg-replica", url(PR)]
    expect = ["--expect-compose", "app=" + composes["app"],
              "--expect-compose", "pg-primary=" + composes["pg-primary"],
              "--expect-compose", "pg-replica=" + composes["pg-replica"]]
    base = ["compare-instances"] + topo + expect + ["--collateral", col, "--allow-sim"]

    # ---- the local topology passes
    rc, out, err = toyctl(*base)
    lines = out.splitlines()
    check(rc == 0 and lines[-1].startswith("verified: all "), "the local topology: all checks pass (exit 0)", out + err)
    rows = [l for l in lines if l.startswith(("app-", "pg-"))]
    check(len(rows) == 4 and all(r.split()[-1] == "ok" and "UpToDate" in r for r in rows),
          "the table lists the four instances, UpToDate, each ok", out)
    for label in ("app-1", "app-2", "pg-primary", "pg-replica"):
        check(any(l.startswith("ok   %s: nonce is the one asked for" % label) for l in lines)
              and any(l.startswith("ok   %s: reportData is SHA-256(publicKey) || SHA-256(nonce)" % label) for l in lines),
              "%s: its fresh nonce is bound in its quote" % label, out)
    check(any(l.startswith("ok   role app: MRTD and RTMR0-2 equal across its instances (2 instances)") for l in lines),
          "MRTD and RTMR0-2 compared within role app", out)
    check(any(l.startswith("ok   app id (measured in RTMR3) equal across all instances (4 instances") for l in lines),
          "the app id compared across all four", out)
    h = hashlib.sha256(open(composes["pg-replica"], "rb").read()).hexdigest()
    check(any(l.startswith("ok   role pg-replica: compose hash (measured in RTMR3) is SHA-256 of") and h in l for l in lines),
          "pg-replica's compose hash is its compose file's", out)
    check(sum("[SIM root: --allow-sim]" in l for l in lines) >= 40, "every line the sim root vouches for says so", out)

    rc, out, err = toyctl(*(base + ["--json"]))
    try:
        doc = json.loads(out)
    except ValueError:
        doc = {}
    check(rc == 0 and doc.get("verified") is True and [i["verdict"] for i in doc.get("instances", [])] == ["ok"] * 4
          and doc["instances"][0]["tcbStatus"] == "UpToDate" and doc["failed"] == 0
          and len({i["nonce"] for i in doc["instances"]}) == 4,
          "--json: verified, four instances ok, four distinct nonces", out + err)

    # ---- an instance with another compose file
    rc, out, err = toyctl(*(["compare-instances"] + topo + ["--app", url(A3)] + expect + ["--collateral", col, "--allow-sim"]))
    lines = out.splitlines()
    named = [l for l in lines if l.startswith("FAIL role app: compose hash") and ("app-3 (%s)" % url(A3)) in l]
    check(rc == 1 and named, "an app instance started with another compose file fails, named", out)
    rows = {l.split()[0]: l.split()[-1] for l in lines if l.startswith(("app-", "pg-"))}
    check(rows == {"app-1": "ok", "app-2": "ok", "app-3": "FAIL", "pg-primary": "ok", "pg-replica": "ok"},
          "the table marks that instance, and only it", out)

    # ---- an attestation replayed with an old nonce
    old = urllib.request.urlopen(url(A2) + "/attestation?nonce=old-nonce", timeout=10).read()
    Relay.recorded, Relay.target = old, A2
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", RELAY), Relay)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    rc, out, err = toyctl("compare-instances", "--app", url(A1), "--app", url(RELAY), "--collateral", col, "--allow-sim")
    lines = out.splitlines()
    check(rc == 1 and any(l.startswith("FAIL app-2: nonce is the one asked for: ") for l in lines)
          and any(l.startswith("FAIL app-2: reportData is SHA-256(publicKey) || SHA-256(nonce): the nonce half does not match")
                  for l in lines),
          "an attestation replayed with an old nonce fails, named", out)
    # ... and the same for a Postgres role's sidecar.
    Relay.recorded, Relay.target = urllib.request.urlopen(url(PP) + "/attestation?nonce=old-nonce", timeout=10).read(), PP
    rc, out, err = toyctl("compare-instances", "--app", url(A1), "--pg-primary", url(RELAY), "--collateral", col,
                          "--allow-sim")
    check(rc == 1 and any(l.startswith("FAIL pg-primary: nonce is the one asked for: ") for l in out.splitlines()),
          "a toy-attestd attestation replayed with an old nonce fails, named", out)
    srv.shutdown()
    srv.server_close()

    # ---- the sidecar: its own key, and only for a Postgres role
    infos = {p: json.loads(urllib.request.urlopen(url(p) + "/info", timeout=10).read()) for p in (A1, PP, PR)}
    check(infos[PP]["role"] == "pg-primary" and infos[PR]["role"] == "pg-replica" and infos[PP]["chain"] is None
          and infos[PP]["publicKey"] != infos[A1]["publicKey"] and infos[PP]["publicKey"] == infos[PR]["publicKey"],
          "toy-attestd: /info names its role and its own identity key, never toyapp's signing key", json.dumps(infos))
    r = subprocess.run([os.path.join(BUILD, "toy-attestd")], capture_output=True, text=True,
                       timeout=30, env=dict(os.environ, TOYAPP_ROLE="app", METADATA_PORT=str(DEAD),
                                            TEE_SIM_SEED=os.path.join(T.tmp, "seed"), CHAIN="off"))
    check(r.returncode == 2 and "TOYAPP_ROLE must be pg-primary or pg-replica" in r.stderr,
          "toy-attestd refuses a role other than pg-primary or pg-replica", r.stderr)
    try:
        urllib.request.urlopen(url(PP) + "/attestation?nonce=" + "x" * 65, timeout=10)
        code, body = 200, b""
    except urllib.error.HTTPError as e:
        code, body = e.code, e.read()
    check(code == 400 and json.loads(body or b"{}").get("error") == "bad_parameter",
          "toy-attestd: a nonce over 64 bytes is 400 bad_parameter, as the spec's parameter says", str(body))

    # ---- https: the same instance behind TLS on 127.0.0.1, its certificate
    # trusted through SSL_CERT_FILE, then not trusted
    cert, key = os.path.join(T.tmp, "tls.crt"), os.path.join(T.tmp, "tls.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    Forward.target = A1
    tls_srv = http.server.ThreadingHTTPServer(("127.0.0.1", RELAY), Forward)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    tls_srv.socket = ctx.wrap_socket(tls_srv.socket, server_side=True)
    threading.Thread(target=tls_srv.serve_forever, daemon=True).start()
    https = "https://127.0.0.1:%d" % RELAY
    r = subprocess.run([TOYCTL, "compare-instances", "--app", https, "--app", url(A2), "--collateral", col, "--allow-sim"],
                       capture_output=True, text=True, timeout=120, env=dict(os.environ, SSL_CERT_FILE=cert))
    check(r.returncode == 0 and ("app-1 " + https) in r.stdout,
          "an https:// metadata URL (TLS, certificate verified) passes like the plain one", r.stdout + r.stderr)
    r = subprocess.run([TOYCTL, "compare-instances", "--app", https, "--collateral", col, "--allow-sim"],
                       capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, SSL_CERT_FILE=os.path.join(T.tmp, "no-such-ca.pem")))
    check(r.returncode == 1 and "certificate does not verify for 127.0.0.1" in r.stdout,
          "an https:// URL whose certificate does not verify fails, named", r.stdout + r.stderr)
    tls_srv.shutdown()
    tls_srv.server_close()

    # ---- refusals and what is not checked
    rc, out, err = toyctl(*(["compare-instances"] + topo + expect + ["--collateral", col]))
    check(rc == 1 and "refused without --allow-sim" in out, "without --allow-sim the sim quotes are refused", out)
    rc, out, err = toyctl(*(["compare-instances"] + topo + expect + ["--allow-sim"]))
    check(rc == 0 and "note: app-1: no --collateral" in out and "(no collateral)" in out,
          "without --collateral: the TCB status is not checked, and it says so", out)
    rc, out, err = toyctl("compare-instances", "--app", url(A1), "--pg-primary", url(A2), "--collateral", col, "--allow-sim")
    check(rc == 1 and "FAIL pg-primary: /info says role pg-primary: it says \"app\"" in out,
          "an app instance given as --pg-primary fails on its role", out)
    rc, out, err = toyctl("compare-instances", "--app", url(A1), "--app", url(DEAD), "--collateral", col, "--allow-sim")
    check(rc == 1 and ("FAIL app-2: GET %s/info" % url(DEAD)) in out, "a dead URL fails, named", out)
    rc, out, err = toyctl("compare-instances", "--app", "ftp://x")
    check(rc == 2, "a URL that is not http(s):// is a usage error", err)
    rc, out, err = toyctl("compare-instances")
    check(rc == 2, "no instance is a usage error", err)
finally:
    T.stop()

sys.exit(summary())

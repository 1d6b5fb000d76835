#!/usr/bin/env python3
"""Integration tests for toyapp against a real Postgres primary and streaming
replica (postgres/cluster.sh) and the real toy-mockapi, all on 127.0.0.1.

Covers: every served endpoint and its JSON shape; bad input (each answered
with the right status and a JSON error, changing no row); the user-data
claim (raw values in no response, table or file); the trust boundary (the
mock API never sees a direct_messages call); failover (primary down: reads
from the replica, writes 503 + Retry-After within 2 s; primary back: writes
work without a restart); two instances sharing one database; and kill -9
under load (every receipt answered 200 is in the database).

Ends with "N passed, M failed".  Env: BUILD (default build)."""
import hashlib, http.client, json, os, signal, socket, subprocess, sys, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from itlib import (ROOT, TOYCTL, Topology, body_of, check, poll, raw, req, status_of, summary,  # noqa: E402
                   verify_consistency, verify_inclusion, wait_for, wait_line)


T = Topology(nports=7)
PG_P, PG_R, MOCK, API, META, API2, META2 = T.ports
tmp = T.tmp
psql = T.psql
start_toyapp = T.start_toyapp


def counts():
    return psql("SELECT (SELECT count(*) FROM signups) || ',' || (SELECT count(*) FROM user_data_receipts)"
                " || ',' || (SELECT count(*) FROM audit_log) || ',' || (SELECT value FROM counters WHERE name='signup')")


try:
    T.start_cluster()
    DB, DB_R = T.db, T.db_r
    check(T.start_mockapi(), "toy-mockapi starts")
    app = start_toyapp(API, META, "cvm-a", {"BODY_TIMEOUT_MS": "1500", "IDLE_TIMEOUT_MS": "2500"})

    # ---- endpoints ------------------------------------------------------------
    st, j, h, _ = req(API, "GET", "/")
    check(st == 200 and j["service"] == "toyapp" and "POST /submit-data" in j["endpoints"], "GET / lists the endpoints")
    st, j, h, _ = req(API, "GET", "/health")
    check(st == 200 and j["primary"] in ("up", "unknown") and "replica" in j, "GET /health reports primary and replica")
    # The monitor checks once a second; give it a few rounds (a sanitizer
    # build starts slowly).
    st, j = wait_for(lambda: req(API, "GET", "/health")[:2], lambda r: r[0] == 200 and r[1]["status"] == "ok") \
        or (0, None)
    check(st == 200 and j["primary"] == "up" and j["replica"] == "up" and j["status"] == "ok", "health: both up")
    st, j, h, _ = req(API, "GET", "/version")
    check(st == 200 and all(k in j for k in ("version", "gitSha", "buildTime", "environment", "composeHash"))
          and j["teeProvider"] == "sim", "GET /version has the seed's fields and the provider")
    st, j, h, _ = req(META, "GET", "/info")
    check(st == 200 and j["teeProvider"] == "sim" and len(j["publicKey"]) == 64, "GET /info on the metadata port")
    pub = j["publicKey"]
    st, j, h, _ = req(META, "GET", "/compose-hash")
    check(st == 200 and len(j["composeHash"]) == 64, "GET /compose-hash")
    st, j, h, _ = req(API, "GET", "/info")
    check(st == 404 and j["error"] == "not_found", "metadata endpoints are not on the API port")

    before = counts()
    st, j, h, _ = req(API, "POST", "/signup", json.dumps({"userId": "alice@example.com"}))
    sentry = json.dumps(j["auditEntry"], separators=(",", ":"), sort_keys=True).encode()
    check(st == 201 and len(j["userIdHash"]) == 64 and j["auditEntry"]["action"] == "signup"
          and j["auditEntry"]["userIdHash"] == j["userIdHash"]
          and verify_inclusion(j["batchIndex"], j["batchHead"]["size"], hashlib.sha256(b"\x00" + sentry).digest(),
                               [bytes.fromhex(x) for x in j["inclusionPath"]], bytes.fromhex(j["batchHead"]["root"])),
          "POST /signup: its entry, in its signed batch (RFC 9162 inclusion check)")
    st, j, h, _ = req(API, "GET", "/signup-count")
    check(st == 200 and j["count"] == 1 and len(j["signature"]) == 128 and j["publicKey"] == pub,
          "GET /signup-count is signed with the /info key")

    secret_payload = "Zq9-SECRET-payload-4711 I watched a movie and a concert, age: 22"
    secret_user = "Uid-Zq9-SECRET-user-7731"
    st, j, h, data = req(API, "POST", "/submit-data",
                         json.dumps({"userId": secret_user, "sensitivePayload": secret_payload}))
    check(st == 200 and j["safeDerivative"] == "category:entertainment,bracket:18-25", "POST /submit-data derives")
    receipt = j
    salt = bytes.fromhex(j["salt"])
    check(hashlib.sha256(salt + secret_payload.encode()).hexdigest() == j["payloadCommitment"],
          "the commitment is SHA-256(salt || payload), checkable by the user")
    entry = json.dumps(j["auditEntry"], separators=(",", ":"), sort_keys=True).encode()
    node = hashlib.sha256(b"\x00" + entry).digest()
    check(verify_inclusion(j["batchIndex"], j["batchHead"]["size"], node,
                           [bytes.fromhex(x) for x in j["inclusionPath"]], bytes.fromhex(j["batchHead"]["root"])),
          "the receipt's entry is in its batch's tree (RFC 9162 inclusion check)")
    check(len(j["deletionToken"]) == 64 and j["auditEntry"]["receiptId"] == j["receiptId"],
          "the receipt carries its entry and a deletion token")
    check(secret_payload.encode() not in data and secret_user.encode() not in data, "raw values are not in the response")

    st, j, h, _ = req(API, "GET", "/watch-history")
    check(st == 200 and len(j["items"]) > 0 and j["auditEntry"]["action"] == "safe_api_call",
          "GET /watch-history calls the safe endpoint and records it")

    # ---- the log, its proofs, the report ---------------------------------------------
    st, pr, h, _ = poll(API, "/receipts/%s/proof" % receipt["receiptId"])
    check(st == 200 and pr["leafHash"] == node.hex()
          and verify_inclusion(pr["leafIndex"], pr["treeSize"], node, [bytes.fromhex(x) for x in pr["path"]],
                               bytes.fromhex(pr["treeHead"]["root"])),
          "GET /receipts/:id/proof: the entry is in the log (RFC 9162 check against the signed head)")
    # Three entries so far (signup, submission, safe API call): wait until
    # the sequencer has placed them all.
    h1 = wait_for(lambda: req(API, "GET", "/log/head")[1], lambda h: h and h.get("treeSize", 0) >= 3)
    st = 200 if h1 else 0
    check(st == 200 and h1["treeSize"] >= 3 and len(h1["signature"]) == 128, "GET /log/head is a signed tree head")
    for k in range(3):
        req(API, "POST", "/signup", json.dumps({"userId": "grow-%d" % k}))
    h2 = wait_for(lambda: req(API, "GET", "/log/head")[1],
                  lambda h: h and h.get("treeSize", 0) >= h1["treeSize"] + 3)
    st, cp, _, _ = req(API, "GET", "/log/consistency?from=%d&to=%d" % (h1["treeSize"], h2["treeSize"]))
    check(st == 200 and cp["treeHead"]["root"] == h2["root"]
          and verify_consistency(h1["treeSize"], h2["treeSize"], bytes.fromhex(h1["root"]), bytes.fromhex(h2["root"]),
                                 [bytes.fromhex(x) for x in cp["path"]]),
          "GET /log/consistency: the later head extends the earlier one (RFC 9162 check)")
    for bad, code in (("/log/consistency?from=5&to=2", 400), ("/log/consistency?from=x&to=2", 400),
                      ("/log/consistency?to=2", 400), ("/log/consistency?from=1&to=999999999", 404),
                      ("/receipts/r_doesnotexist/proof", 404), ("/receipts/BAD-ID!/proof", 400)):
        st, j, _, _ = req(API, "GET", bad)
        check(st == code and j and "error" in j, "GET %s -> %d JSON" % (bad, code))
    st, rep, _, _ = req(API, "GET", "/report")
    st2, rep2, _, _ = req(API, "GET", "/report")
    check(st == 200 and rep == rep2 and rep["summary"]["totalUsersProcessed"] >= 1
          and rep["summary"]["auditLogDigest"] == "sha256:" + rep["treeHead"]["root"]
          and rep["previousReportId"] is None and rep["leakageBound"].startswith("5.17"),
          "GET /report: signed report; asking again in the same window gives the same report")
    st, _, h, md = req(API, "GET", "/report.md")
    st2, _, _, md2 = req(API, "GET", "/report?format=md")
    check(st == 200 and h["content-type"].startswith("text/markdown") and md == md2
          and rep["reportId"].encode() in md and rep["signature"].encode() in md, "GET /report.md renders the same report")
    st, rl, _, _ = req(API, "GET", "/reports?page=1&limit=10")
    check(st == 200 and rl["total"] == 1 and rl["reports"][0]["reportId"] == rep["reportId"], "GET /reports lists it")
    st, rl, _, _ = req(API, "GET", "/reports?page=5&limit=10")
    check(st == 200 and rl["total"] == 1 and rl["reports"] == [] and rl["page"] == 5,
          "GET /reports past the last page: no items, the total still counted")
    check(psql("SELECT count(*) FROM reports") == "1", "one row per report, however often it is asked for")
    st, at, _, _ = req(META, "GET", "/attestation?nonce=n0nce")
    rd = bytes.fromhex(at["reportData"]) if st == 200 else b""
    check(st == 200 and rd[:32] == hashlib.sha256(bytes.fromhex(pub)).digest()
          and rd[32:] == hashlib.sha256(b"n0nce").digest() and bytes.fromhex(at["quote"])[568:632] == rd,
          "GET /attestation binds the signing key and the nonce in the quote's report_data")

    # The auditor's tool agrees, on the service's real output.
    toyctl = TOYCTL
    files = {}
    for name, obj in (("receipt", receipt), ("proof", pr), ("report", rep), ("att", at)):
        files[name] = os.path.join(tmp, name + ".json")
        with open(files[name], "w") as fh:
            json.dump(obj, fh, indent=1)
    r1 = subprocess.run([toyctl, "verify-receipt", files["receipt"], "--proof", files["proof"],
                         "--payload", secret_payload, "--pubkey", pub], capture_output=True, text=True)
    check(r1.returncode == 0, "toyctl verify-receipt accepts the service's receipt and proof")
    r2 = subprocess.run([toyctl, "verify-report", files["report"], "--attestation", files["att"],
                         "--allow-sim", "--nonce", "n0nce"], capture_output=True, text=True)
    check(r2.returncode == 0, "toyctl verify-report accepts the report, bound to the attestation")
    if r1.returncode or r2.returncode:
        print(r1.stdout[-2000:], r2.stdout[-2000:])

    # ---- HTTP/1.1 framing ----------------------------------------------------------
    two = (b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
           b"POST /signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
           b"Content-Length: 29\r\nConnection: close\r\n\r\n" + b'{"userId":"pipe@example.com"}')
    r = raw(API, two)
    parts = r.split(b"HTTP/1.1 ")
    check(len(parts) == 3 and parts[1].startswith(b"200 ") and b'"status"' in parts[1]
          and parts[2].startswith(b"201 ") and b"Connection: close" in parts[2],
          "two pipelined requests are answered in order, then the connection closes on request")
    r = raw(API, b"POST /signup HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 20\r\n\r\n"
            b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    check(status_of(r) == 415 and r.count(b"HTTP/1.1 ") == 1 and b"Connection: close" in r,
          "a refused body is not read as the next request: one answer, then close")
    # 90 KB of pipelined requests: reading pauses past 64 KiB queued and
    # resumes as answers go out; every request is answered, in order.
    many = b"".join(b"GET /signup-count?n=%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(2000))
    r = raw(API, many + b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", read_timeout=15)
    check(r.count(b"HTTP/1.1 200 ") == 2001 and b'"status"' in r.rsplit(b"HTTP/1.1 200 ", 1)[1],
          "2,000 pipelined requests (90 KB) are all answered, then the last one (%d answers)"
          % r.count(b"HTTP/1.1 200 "))
    r = raw(API, b"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 34\r\n\r\n"
            b"GET /version HTTP/1.1\r\nHost: x\r\n\r\n")
    check(status_of(r) == 200 and r.count(b"HTTP/1.1 ") == 1 and b"Connection: close" in r,
          "a body sent to a GET route is not read as the next request: one answer, then close")
    r = raw(API, b"GET /health HTTP/1.0\r\n\r\n", read_timeout=3)
    check(status_of(r) == 200 and b"Connection: close" in r,
          "HTTP/1.0 without keep-alive: answered, then closed")
    s100 = socket.create_connection(("127.0.0.1", API), timeout=5)
    s100.sendall(b"POST /signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 29\r\nExpect: 100-continue\r\n\r\n")
    interim = s100.recv(4096)
    s100.sendall(b'{"userId":"cont@example.com"}')
    final = b""
    while b"}" not in final:
        chunk = s100.recv(4096)
        if not chunk:
            break
        final += chunk
    s100.close()
    check(interim == b"HTTP/1.1 100 Continue\r\n\r\n" and status_of(final) == 201,
          "Expect: 100-continue gets the go-ahead, then the answer")
    # A kept-alive connection that stays idle is closed (no answer, no error)
    # after IDLE_TIMEOUT_MS (2.5 s here), and not before.
    si = socket.create_connection(("127.0.0.1", API), timeout=6)
    si.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    first = si.recv(65536)
    t0 = time.time()
    rest = b""
    try:
        while True:
            chunk = si.recv(65536)
            if not chunk:
                break
            rest += chunk
    except (socket.timeout, ConnectionResetError):
        rest = None
    idle = time.time() - t0
    si.close()
    # Closed after the timeout and not before; the upper bound only says it
    # was closed at all (a loaded machine may be late).
    check(status_of(first) == 200 and rest == b"" and 2.0 < idle < 15,
          "an idle kept-alive connection is closed after IDLE_TIMEOUT_MS (%.1fs)" % idle)
    st, j, h, _ = req(API, "GET", "/health")
    check(st == 200 and h.get("date", "").endswith(" GMT") and h.get("content-type") == "application/json",
          "responses carry Date and Content-Type")

    # ---- bad input: right status, JSON error, no row changed ----------------------
    before = counts()
    cases = [
        ("POST", "/signup", b'{"userId":', 400, "truncated_body"),
        ("POST", "/signup", b'{"userId":"a","x":1}', 422, "unknown_key"),
        ("POST", "/signup", b'{"userId":"a","userId":"b"}', 422, "duplicate_key"),
        ("POST", "/signup", b'{}', 422, "missing_key"),
        ("POST", "/signup", b'{"userId":5}', 422, "wrong_type"),
        ("POST", "/signup", b'{"userId":""}', 422, "length_out_of_range"),
        ("POST", "/signup", b'{"userId":"\xc0\xaf"}', 400, "invalid_utf8"),
        ("POST", "/signup", b'{"userId":"\\ud800"}', 400, "invalid_utf8"),
        ("POST", "/signup", b'{"userId":"a"} x', 400, "trailing_bytes"),
        ("POST", "/signup", b'{"userId":' + b"[" * 4000, 422, "wrong_type"),
        ("POST", "/submit-data", b'{"userId":"u","sensitivePayload":""}', 422, "length_out_of_range"),
    ]
    for m, path, body, want, code in cases:
        st, j, h, _ = req(API, m, path, body)
        check(st == want and j and j.get("error") == code and "message" in j,
              "%s %s %r -> %d %s" % (m, path, body[:24], want, code))
    big = b'{"userId":"' + b"a" * 5000 + b'"}'
    st, j, h, _ = req(API, "POST", "/signup", big)
    check(st == 413 and j["error"] == "body_too_large", "body over the limit -> 413")
    st, j, h, _ = req(API, "POST", "/signup", b'{"userId":"a"}', {"Content-Type": "text/plain"})
    check(st == 415 and j["error"] == "unsupported_media_type", "wrong Content-Type -> 415")
    r = raw(API, b"POST /signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    check(status_of(r) == 411 and (body_of(r) or {}).get("error") == "length_required", "no Content-Length -> 411")
    st, j, h, _ = req(API, "DELETE", "/signup")
    check(st == 405 and j["error"] == "method_not_allowed" and h.get("allow") == "POST", "wrong method -> 405 with Allow")
    st, j, h, _ = req(API, "GET", "/nope")
    check(st == 404 and j["error"] == "not_found", "unknown path -> 404 JSON")
    # Request heads: read by rt_http, each refusal a JSON error.
    big = b"X-Big: " + b"a" * 9000 + b"\r\n"
    r = raw(API, b"POST /signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 14\r\n" + big + b"\r\n" + b'{"userId":"h"}')
    check(status_of(r) == 431 and (body_of(r) or {}).get("error") == "headers_too_large",
          "headers over the 8 KiB limit -> 431 JSON (got %d)" % status_of(r))
    r = raw(API, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n" + big + b"\r\n")
    check(r.count(b"HTTP/1.1 200 ") == 1 and r.count(b"HTTP/1.1 431 ") == 1
          and b'"error":"headers_too_large"' in r,
          "headers over the limit on a kept-alive connection's second request -> 431 JSON")
    r = raw(API, b"GET / HTTP/1.1\r\nHost: x\r\n" + b"Accept: a\r\n" * 1000 + b"\r\n")
    check(status_of(r) == 431, "a thousand header lines -> 431 (got %d)" % status_of(r))
    heads = [
        (b"BREW /signup HTTP/1.1\r\nHost: x\r\n\r\n", 405, "method_not_allowed"),
        (b"GET /signup-count HTTP/2.0\r\nHost: x\r\n\r\n", 505, "http_version_not_supported"),
        (b"GET  /health HTTP/1.1\r\nHost: x\r\n\r\n", 400, "bad_request_line"),
        (b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 400, "bad_request_line"),
        (b"GET /health HTTP/1.1\r\nHost: x\r\nX: a\x01b\r\n\r\n", 400, "bad_header"),
        (b"GET /health HTTP/1.1\r\nHost: x\r\nX: a\r\n folded\r\n\r\n", 400, "bad_header"),
        (b"GET /health HTTP/1.1\r\n\r\n", 400, "bad_header"),
        (b"POST /signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
         b"Content-Length: 14\r\nContent-Length: 15\r\n\r\n" + b'{"userId":"h"}', 400, "bad_content_length"),
    ]
    for data, want, code in heads:
        r = raw(API, data, read_timeout=2)
        check(status_of(r) == want and (body_of(r) or {}).get("error") == code,
              "request head %r -> %d %s (got %d)" % (data[:28], want, code, status_of(r)))
    t0 = time.time()
    r = raw(API, b"POST /signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 16\r\n\r\n", read_timeout=6, trickle=b'{"userId":"abc"}')
    check(status_of(r) == 408 and (body_of(r) or {}).get("error") == "request_timeout",
          "a client sending one byte a second -> 408 (after %.1fs)" % (time.time() - t0))
    t0 = time.time()
    r = raw(API, b"GET /health HTTP/1.1\r\nHo", read_timeout=6, trickle=b"st: x\r\nX-Slow: yes\r\n\r\n")
    check(status_of(r) == 408 and (body_of(r) or {}).get("error") == "request_timeout",
          "a request head sent one byte a second -> 408 (after %.1fs)" % (time.time() - t0))
    # Every invalid JSON document of JSONTestSuite, as a body.
    suite = os.path.join(ROOT, "tests", "data", "parse", "jsonts")
    bad = []
    for name in sorted(os.listdir(suite)):
        if not name.startswith("n_"):
            continue
        with open(os.path.join(suite, name), "rb") as fh:
            body = fh.read()
        st, j, h, _ = req(API, "POST", "/signup", body)
        if st not in (400, 413, 422) or not j or "error" not in j or "message" not in j:
            bad.append((name, st))
    check(not bad, "every JSONTestSuite n_ body is refused with 400/413/422 and a JSON error: %s" % bad[:5])
    check(counts() == before, "no row changed by any bad request (%s)" % before)

    # ---- the user-data claim: raw values nowhere ---------------------------------
    dump = subprocess.run(["pg_dump", DB, "--data-only"], capture_output=True,
                          timeout=60).stdout
    check(len(dump) > 0 and secret_payload.encode() not in dump and secret_user.encode() not in dump
          and b"Zq9-SECRET" not in dump, "raw values are in no table (pg_dump)")
    leaked = []
    for d, _, files in os.walk(tmp):
        for f in files:
            try:
                with open(os.path.join(d, f), "rb") as fh:
                    if b"Zq9-SECRET" in fh.read():
                        leaked.append(os.path.join(d, f))
            except OSError:
                pass
    check(not leaked, "raw values are in no file (logs, database files, WAL): %s" % leaked[:3])

    # ---- two instances, one database ----------------------------------------------
    app2 = start_toyapp(API2, META2, "cvm-b")
    _, c0, _, _ = req(API, "GET", "/signup-count")
    base = c0["count"]
    st, j, h, _ = req(API2, "POST", "/signup", json.dumps({"userId": "bob@example.com"}))
    check(st == 201, "a signup through instance B")
    st1, j1, _, _ = req(API, "GET", "/signup-count")
    st2, j2, _, _ = req(API2, "GET", "/signup-count")
    check(j1["count"] == base + 1 and j2["count"] == base + 1 and j1["cvmId"] == "cvm-a" and j2["cvmId"] == "cvm-b",
          "both instances report the unified count")
    _, i1, _, _ = req(META, "GET", "/info")
    _, i2, _, _ = req(META2, "GET", "/info")
    check(i1["publicKey"] == i2["publicKey"], "same app id and seed: same signing key")

    # ---- failover -----------------------------------------------------------------
    T.cluster_cmd("stop-primary")
    t0 = time.time()
    st, j, h, _ = req(API, "POST", "/signup", json.dumps({"userId": "carol@example.com"}))
    dt = time.time() - t0
    check(st == 503 and h.get("retry-after") and j["error"] == "database_unavailable" and dt < 5,
          "primary down: a write answers 503 + Retry-After in %.2fs" % dt)
    st, j, h, _ = req(API, "GET", "/signup-count")
    check(st == 200 and j["count"] == base + 1, "primary down: reads come from the replica")
    # The monitor checks once a second: wait for it to see the primary down.
    j = wait_for(lambda: req(API, "GET", "/health")[1], lambda j: j and j.get("status") == "degraded")
    check(j and j["primary"] == "down" and j["status"] == "degraded", "health says degraded")
    T.cluster_cmd("start-primary")
    ok = False
    deadline = time.time() + 10
    while time.time() < deadline and not ok:
        st, j, h, _ = req(API, "POST", "/signup", json.dumps({"userId": "carol@example.com"}))
        ok = st == 201
        if not ok:
            time.sleep(0.3)
    st, j, _, _ = req(API, "GET", "/signup-count")
    check(ok and j["count"] == base + 2, "primary back: writes work again without a restart")

    # ---- trust boundary --------------------------------------------------------------
    st, j, h, _ = req(MOCK, "GET", "/stats")
    check(st == 200 and j["direct_messages"] == 0 and j["watch_history"] >= 1,
          "the mock API saw %d watch_history and %d direct_messages calls" % (j["watch_history"], j["direct_messages"]))

    # ---- kill -9 under load -------------------------------------------------------------
    acked, lock, stop = [], threading.Lock(), threading.Event()

    def load(k):
        n = 0
        while not stop.is_set():
            try:
                st, j, _, _ = req(API2, "POST", "/submit-data",
                                  json.dumps({"userId": "load-%d-%d" % (k, n), "sensitivePayload": "x %d" % n}),
                                  timeout=3)
                if st == 200:
                    with lock:
                        acked.append(j["receiptId"])
            except (OSError, http.client.HTTPException):
                pass
            n += 1
    ts = [threading.Thread(target=load, args=(k,)) for k in range(8)]
    for t in ts:
        t.start()
    # Kill once the load is under way: some requests acknowledged, more in flight.
    wait_for(lambda: len(acked), lambda n: n >= 60, timeout=60)
    app2.send_signal(signal.SIGKILL)
    time.sleep(0.3)
    stop.set()
    for t in ts:
        t.join()
    ids = set(psql("SELECT receipt_id FROM user_data_receipts").split())
    missing = [r for r in acked if r not in ids]
    check(len(acked) > 50 and not missing,
          "kill -9 under load: all %d acknowledged receipts are in the database (%d missing)" % (len(acked), len(missing)))

    # Both instances wrote at once; the log has one sequence with no gaps.
    deadline = time.time() + 15
    while time.time() < deadline and psql("SELECT count(*) FROM log_queue") != "0":
        time.sleep(0.2)
    stats = psql("SELECT count(*) || ',' || count(DISTINCT leaf_index) || ',' || (max(leaf_index) + 1)"
                 " || ',' || count(DISTINCT audit_id) || ',' || (SELECT count(*) FROM audit_log)"
                 " FROM log_leaf_range(0, (SELECT tree_size FROM tree_state WHERE id = 1))")
    n = stats.split(",")[0]
    check(stats == ",".join([n] * 5),
          "one log: every entry has one distinct leaf index, 0..n-1 (%s)" % stats)

    app.send_signal(signal.SIGTERM)
    try:
        rc = app.wait(timeout=5)
    except subprocess.TimeoutExpired:
        rc = None
    check(rc == 0, "SIGTERM stops toyapp cleanly")
finally:
    T.stop()

sys.exit(summary())

#!/usr/bin/env python3
"""Integration tests of the service layer that spec/ generates, and of
deletion, against a real Postgres primary and replica, toy-mockapi and
toyapp, all on 127.0.0.1.

  - every endpoint the spec declares as planned (none at present) answers
    501 not_implemented;
  - every POST route's valid body sent to every other POST route is refused
    (4xx) and changes nothing; sent to its own route it writes exactly the
    entry kinds its `emits` line lists; every other endpoint writes exactly
    what its `emits` lists (reads: nothing);
  - POST /delete-data/:receiptId: bad ids, tokens and bodies refused with
    nothing changed (403 wrong token, 404 unknown receipt, 422 malformed);
    a deletion purges the spec's purged columns and keeps the leaf hash (the
    receipt's proof still verifies), appends a data_deleted entry, queues a
    signed attestation; toyctl verify-deletion accepts the answer and refuses
    every tampered copy; a second deletion is 410 with the first one's
    attestation; concurrent deletions of one receipt record one; the raw
    token is in no table, file (WAL included) or later answer;
  - the report counts deletions in its window, and the Markdown shows them.

Ends with "N passed, M failed".  Env: BUILD (default build)."""
import copy, glob, hashlib, json, os, re, secrets, subprocess, sys, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from itlib import ROOT, TOYCTL, Topology, check, poll, req, summary, verify_inclusion  # noqa: E402


def parse_spec():
    """{endpoint: {method, path, port, emits, planned, status}} from spec/."""
    eps = {}
    for f in sorted(glob.glob(os.path.join(ROOT, "spec", "**", "*.spec"), recursive=True)):
        cur = None
        for line in open(f):
            line = line.split("#")[0].rstrip()
            m = re.match(r"endpoint (\w+) (\w+) (\S+)( port metadata)?", line)
            if m:
                cur = eps[m.group(1)] = {"method": m.group(2), "path": m.group(3), "emits": set(),
                                         "planned": False, "metadata": bool(m.group(4)), "status": 200}
                continue
            if cur is None:
                continue
            m = re.match(r"\s+emits (.*)", line)
            if m:
                cur["emits"] = set(k.strip() for k in m.group(1).split(","))
            if re.match(r"\s+planned\s*$", line):
                cur["planned"] = True
            m = re.match(r"\s+response (\d+)", line)
            if m:
                cur["status"] = int(m.group(1))
            if line == "}":
                cur = None
    return eps


T = Topology(nports=7)
PG_P, PG_R, MOCK, API, META, API2, META2 = T.ports
psql = T.psql
SPEC = parse_spec()


def snapshot():
    """Everything a request could change: entries by kind, every table's
    rows, the counters, what is purged."""
    return psql(
        "SELECT (SELECT coalesce(string_agg(action || '=' || n, ','), '') FROM"
        "   (SELECT action, count(*) AS n FROM audit_log GROUP BY action ORDER BY action) a)"
        " || '|' || (SELECT count(*) FROM signups) || ',' || (SELECT count(*) FROM user_data_receipts)"
        " || ',' || (SELECT count(*) FROM reports) || ',' || (SELECT count(*) FROM deletion_outbox)"
        " || ',' || (SELECT count(*) FROM batches)"
        " || '|' || (SELECT string_agg(name || '=' || value, ',' ORDER BY name) FROM counters)"
        " || '|' || (SELECT count(*) FROM user_data_receipts WHERE deleted_at IS NOT NULL)"
        " || ',' || (SELECT count(*) FROM audit_log WHERE entry IS NULL)")


def kinds():
    return dict((k, int(v)) for k, v in (x.split("=") for x in psql(
        "SELECT string_agg(action || '=' || n, ' ') FROM"
        " (SELECT action, count(*) AS n FROM audit_log GROUP BY action) a").split()))


def delta(before, after):
    return dict((k, after.get(k, 0) - before.get(k, 0)) for k in set(before) | set(after)
                if after.get(k, 0) != before.get(k, 0))


def post(path, body, port=None):
    return req(port or API, "POST", path, json.dumps(body) if not isinstance(body, bytes) else body)


def submit(user, payload):
    st, j, _, d = post("/submit-data", {"userId": user, "sensitivePayload": payload})
    assert st == 200, (st, j)
    return j, d


def toyctl(*args):
    p = subprocess.run([TOYCTL] + list(args), capture_output=True, text=True)
    return p.returncode, p.stdout


try:
    T.start_cluster()
    check(T.start_mockapi(), "toy-mockapi starts")
    T.start_toyapp(API, META, "svc-a")
    _, info, _, _ = req(META, "GET", "/info")
    pub = info["publicKey"]
    answers = []   # every answer after the receipt, for the token canary

    # ---- planned endpoints (none at present; each answers 501 while planned) -----
    planned = [e for e, v in SPEC.items() if v["planned"]]
    for e in planned:
        v = SPEC[e]
        st, j, _, _ = req(META if v["metadata"] else API, v["method"], v["path"])
        check(st == 501 and j["error"] == "not_implemented" and "message" in j,
              "planned endpoint %s (%s %s) answers 501 not_implemented" % (e, v["method"], v["path"]))

    # ---- every POST body to every other POST route --------------------------------
    victim, _ = submit("cross-user", "a movie, age: 30")
    posts = dict((e, v) for e, v in SPEC.items() if v["method"] == "POST" and not v["planned"])
    bodies = {"signup": {"userId": "cross-signup"},
              "submit_data": {"userId": "cross-submit", "sensitivePayload": "a match, age: 40"},
              "delete_data": {"deletionToken": victim["deletionToken"]}}
    paths = dict((e, v["path"].replace(":receiptId", victim["receiptId"])) for e, v in posts.items())
    check(set(posts) == set(bodies), "the test has a valid body for every POST route (%s)" % sorted(posts))
    for src in sorted(bodies):
        for dst in sorted(posts):
            if src == dst:
                continue
            before = snapshot()
            st, j, _, _ = post(paths[dst], bodies[src])
            check(400 <= st < 500 and j and "error" in j and snapshot() == before,
                  "%s's body sent to %s: %d %s, nothing changed" % (src, paths[dst], st, j and j.get("error")))
    for e in sorted(posts):
        before = kinds()
        st, j, _, _ = post(paths[e], bodies[e])
        d = delta(before, kinds())
        check(200 <= st < 300 and d == dict((k, 1) for k in SPEC[e]["emits"]),
              "%s's body to %s: %d, wrote exactly its emits %s (wrote %s)"
              % (e, paths[e], st, sorted(SPEC[e]["emits"]), d))

    # ---- every other endpoint writes exactly its emits ------------------------------
    st, head, _, _ = poll(API, "/log/head")
    size = head["treeSize"] if st == 200 else 1
    gets = {"receipt_proof": "/receipts/%s/proof" % victim["receiptId"],
            "log_consistency": "/log/consistency?from=1&to=%d" % size,
            "attestation": "/attestation?nonce=emits-check",
            "deletion_status": "/receipts/%s/deletion" % victim["receiptId"]}
    for e in sorted(SPEC):
        v = SPEC[e]
        if v["method"] != "GET" or v["planned"]:
            continue
        path = gets.get(e, v["path"])
        before = kinds()
        st, j, _, _ = req(META if v["metadata"] else API, "GET", path)
        d = delta(before, kinds())
        # A WebSocket (101) answers a plain GET 426: test_ws.py opens it.
        ok = st == (426 if v["status"] == 101 else 200) and all(k in v["emits"] and n == 1 for k, n in d.items())
        if e in ("watch_history",):
            ok = ok and d == dict((k, 1) for k in v["emits"])
        check(ok, "GET %s: %d, wrote %s (emits %s)" % (path, st, d, sorted(v["emits"])))
    st, c0, _, _ = req(API, "GET", "/log/consistency?from=0&to=%d" % size)
    check(st == 200 and c0["from"] == 0 and c0["path"] == [] and c0["treeHead"]["treeSize"] == size,
          "GET /log/consistency?from=0: the empty proof, with the signed head")
    before = kinds()
    req(API, "GET", "/report")
    req(API, "GET", "/report.md")
    check(delta(before, kinds()) == {}, "a report already made this period writes nothing more")

    # ---- deletion: refusals change nothing --------------------------------------------
    canary_user, canary_payload = "Del-Zq7-user-5521", "Del-Zq7-SECRET I watched a concert, age: 17"
    rc, rdata = submit(canary_user, canary_payload)
    token, rid = rc["deletionToken"], rc["receiptId"]
    st, proof, _, _ = poll(API, "/receipts/%s/proof" % rid)
    check(st == 200, "the receipt is in the log before its deletion")
    before = snapshot()
    refusals = [
        ("/delete-data/" + rid, {"deletionToken": secrets.token_hex(32)}, 403, "wrong_token"),
        ("/delete-data/" + rid, {"deletionToken": token.upper()}, 422, "bad_format"),
        ("/delete-data/" + rid, {"deletionToken": token[:63]}, 422, "length_out_of_range"),
        ("/delete-data/" + rid, {"deletionToken": token, "extra": 1}, 422, "unknown_key"),
        ("/delete-data/" + rid, {}, 422, "missing_key"),
        ("/delete-data/" + rid, b'{"deletionToken":', 400, "truncated_body"),
        ("/delete-data/r_" + "0" * 32, {"deletionToken": token}, 404, "unknown_receipt"),
        ("/delete-data/BAD!", {"deletionToken": token}, 400, "bad_parameter"),
        ("/delete-data/" + "a" * 65, {"deletionToken": token}, 400, "bad_parameter"),
    ]
    for path, body, want, code in refusals:
        st, j, _, d = post(path, body)
        answers.append(d)
        check(st == want and j and j.get("error") == code and "message" in j,
              "delete %s %s -> %d %s (got %d %s)" % (path[:40], str(body)[:40], want, code, st, j and j.get("error")))
    check(snapshot() == before, "no refused deletion changed anything (%s)" % before)

    # ---- deletion: the real one -----------------------------------------------------------
    before = kinds()
    st, dl, _, d = post("/delete-data/" + rid, {"deletionToken": token})
    answers.append(d)
    check(st == 200 and dl["deleted"] is True and dl["receiptId"] == rid and dl["userIdHash"] == rc["userIdHash"]
          and dl["auditEntry"]["action"] == "data_deleted" and dl["attestation"]["receiptId"] == rid
          and dl["attestation"]["publicKey"] == pub and dl["attestation"]["composeHash"] == info["composeHash"],
          "POST /delete-data: 200 with the data_deleted entry and the attestation")
    check(delta(before, kinds()) == {"data_deleted": 1}, "a deletion writes one data_deleted entry")
    row = psql("SELECT (payload_commitment IS NULL)::text || (safe_derivative IS NULL)::text"
               " || (deleted_at IS NOT NULL)::text || encode(user_id_hash, 'hex')"
               " FROM user_data_receipts WHERE receipt_id = '%s'" % rid)
    check(row == "truetruetrue" + rc["userIdHash"],
          "the receipt's commitment and derivative are purged, the user id hash and the row stay (%s)" % row)
    entry = json.dumps(rc["auditEntry"], separators=(",", ":"), sort_keys=True).encode()
    leaf = hashlib.sha256(b"\x00" + entry).hexdigest()
    row = psql("SELECT (entry IS NULL)::text || encode(leaf_hash, 'hex') FROM audit_log"
               " WHERE receipt_id = '%s' AND action = 'data_received'" % rid)
    check(row == "true" + leaf, "the data_received entry's bytes are purged and its leaf hash stays")
    att = psql("SELECT convert_from(attestation, 'UTF8') || '|' || coalesce(tx_hash, 'unsent')"
               " FROM deletion_outbox WHERE receipt_id = '%s'" % rid)
    check(att == json.dumps(dl["attestation"], separators=(",", ":"), sort_keys=True) + "|unsent",
          "the signed attestation is queued, unsent, in deletion_outbox")
    st, pr, _, _ = req(API, "GET", "/receipts/%s/proof" % rid)
    check(st == 200 and pr["leafHash"] == leaf and verify_inclusion(
        pr["leafIndex"], pr["treeSize"], bytes.fromhex(leaf), [bytes.fromhex(x) for x in pr["path"]],
        bytes.fromhex(pr["treeHead"]["root"])), "after the purge the receipt's proof still verifies")
    files = {}
    for name, obj in (("receipt", rc), ("proof", pr), ("deletion", dl)):
        files[name] = os.path.join(T.tmp, name + ".json")
        with open(files[name], "w") as fh:
            json.dump(obj, fh, indent=1)
    code, out = toyctl("verify-receipt", files["receipt"], "--proof", files["proof"], "--payload", canary_payload,
                       "--pubkey", pub)
    check(code == 0, "toyctl verify-receipt still accepts the receipt the user kept")
    code, out = toyctl("verify-deletion", files["deletion"], "--receipt", files["receipt"], "--pubkey", pub)
    check(code == 0 and "verified" in out, "toyctl verify-deletion accepts the answer")
    if code:
        print(out[-2000:])
    tampers = [("attestation", "userIdHash"), ("attestation", "deletionTimestamp"), ("attestation", "receiptId"),
               ("attestation", "composeHash"), ("auditEntry", "receiptId"), ("auditEntry", "timestamp"),
               ("batchHead", "signature"), ("batchHead", "root"), (None, "batchIndex"), (None, "receiptId"),
               (None, "userIdHash")]
    refused = 0
    for obj, key in tampers:
        t = copy.deepcopy(dl)
        o = t[obj] if obj else t
        v = o[key]
        o[key] = v + 1 if isinstance(v, int) else (v[:-1] + ("0" if v[-1] != "0" else "1"))
        path = os.path.join(T.tmp, "tampered.json")
        with open(path, "w") as fh:
            json.dump(t, fh)
        code, _ = toyctl("verify-deletion", path, "--receipt", files["receipt"], "--pubkey", pub)
        refused += code == 1
    check(refused == len(tampers), "toyctl verify-deletion refuses every tampered copy (%d of %d)"
          % (refused, len(tampers)))
    code, _ = toyctl("verify-deletion", files["deletion"], "--pubkey", "00" * 32)
    check(code == 1, "toyctl verify-deletion refuses another key")

    before = snapshot()
    st, j, _, d = post("/delete-data/" + rid, {"deletionToken": token})
    answers.append(d)
    check(st == 410 and j["error"] == "already_deleted" and j["attestation"] == dl["attestation"]
          and snapshot() == before, "a second deletion: 410 with the first attestation, nothing written")

    # Concurrent deletions of one receipt: one is recorded, the others see it.
    rc2, _ = submit("race-user", "a film")
    results, lock = [], threading.Lock()

    def race():
        st, j, _, d = post("/delete-data/" + rc2["receiptId"], {"deletionToken": rc2["deletionToken"]})
        with lock:
            results.append(st)
            answers.append(d)
    ts = [threading.Thread(target=race) for _ in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    n = psql("SELECT count(*) FROM audit_log WHERE action = 'data_deleted' AND receipt_id = '%s'" % rc2["receiptId"])
    check(sorted(results) == [200] + [410] * 7 and n == "1",
          "8 concurrent deletions of one receipt: one 200, seven 410, one entry (%s, %s)" % (sorted(results), n))

    # ---- the raw token and payload are nowhere ----------------------------------------------
    tok_raw = bytes.fromhex(token)
    needles = [token.encode(), token.upper().encode(), tok_raw, b"Del-Zq7"]
    check(not any(n in a for a in answers for n in needles[:3]), "no answer after the receipt holds the token")
    dump = subprocess.run(["pg_dump", T.db, "--data-only"], capture_output=True, timeout=60).stdout
    check(len(dump) > 0 and not any(n in dump for n in needles), "the token and the payload are in no table (pg_dump)")
    psql("CHECKPOINT")
    leaked = []
    for d, _, fs in os.walk(T.tmp):
        for f in fs:
            if f in ("receipt.json",):
                continue   # the user's own copy of the receipt, written by this test
            try:
                with open(os.path.join(d, f), "rb") as fh:
                    data = fh.read()
            except OSError:
                continue
            if any(n in data for n in needles):
                leaked.append(os.path.join(d, f))
    with open(files["receipt"], "rb") as fh:
        check(token.encode() in fh.read(), "the file scan sees the token where it is: the user's receipt")
    check(not leaked, "the token and the payload are in no file under the test's directory (logs, data, WAL): %s"
          % leaked[:3])

    # ---- reports count deletions ---------------------------------------------------------------
    # A second instance with 2-second report periods: one report before a
    # deletion, one after, both by the same rules as the daily one.
    T.start_toyapp(API2, META2, "svc-b", {"REPORT_PERIOD_SECONDS": "2"})
    st, r1, _, _ = req(API2, "GET", "/report")
    rc3, _ = submit("report-user", "some fitness")
    st, _, _, _ = post("/delete-data/" + rc3["receiptId"], {"deletionToken": rc3["deletionToken"]})
    total = int(psql("SELECT count(*) FROM audit_log WHERE action = 'data_deleted'"))
    r2 = None
    deadline = time.time() + 10
    while time.time() < deadline:
        st, r2, _, _ = req(API2, "GET", "/report")
        if st == 200 and r2["reportId"] != r1["reportId"]:
            break
        time.sleep(0.3)
    check(r2 and r2["reportId"] != r1["reportId"] and r2["summary"]["window"]["deletions"] == 1
          and r2["summary"]["totalDeletions"] == total and r2["previousReportId"] == r1["reportId"],
          "the next report counts the deletion in its window (window %s, total %s of %d)"
          % (r2 and r2["summary"]["window"]["deletions"], r2 and r2["summary"]["totalDeletions"], total))
    st, _, h, md = req(API2, "GET", "/report.md")
    row = [l for l in md.decode().splitlines() if l.startswith("| deletions")]
    check(st == 200 and row and row[0].split("|")[2].strip() == "1" and row[0].split("|")[3].strip() == str(total),
          "the Markdown report shows the deletions: %s" % row)
    rp = os.path.join(T.tmp, "report.json")
    with open(rp, "w") as fh:
        json.dump(r2, fh)
    code, _ = toyctl("verify-report", rp, "--pubkey", pub)
    check(code == 0, "toyctl verify-report accepts the report with deletions")
finally:
    T.stop()

sys.exit(summary())

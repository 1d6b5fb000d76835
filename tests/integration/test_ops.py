#!/usr/bin/env python3
"""Integration tests of operations: idempotent writes, and liveness and
readiness when the primary refuses writes, against a real Postgres primary
and replica whose data lives on a small tmpfs that the test fills, and two
toyapp instances, all on 127.0.0.1.

  - Idempotency-Key: a retry with the same key and request gets the original
    answer, byte for byte, and writes nothing; the same key with another
    request, or on another route, is 422 and writes nothing; concurrent
    retries of one key write one entry; a key expires; the answer is stored
    sealed (the deletion token is in no table in the clear); kill -9 under
    load with every unanswered request retried on the other instance: exactly
    one entry per request;
  - /ready is 200 while the primary takes writes; within 2 s of the primary
    becoming read-only, or of its disk filling up, it is 503 with the
    reason, and /health (still 200: the process is alive) says which;
    within 2 s of recovery /ready is 200 again and writes work;
  - a write refused meanwhile answers 503 and changes nothing.

Needs root (it mounts a tmpfs).  Ends with "N passed, M failed".
Env: BUILD (default build)."""
import http.client, json, os, signal, subprocess, sys, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from itlib import Topology, check, req, summary, wait_for  # noqa: E402

T = Topology(nports=7)
PG_P, PG_R, MOCK, API, META, API2, META2 = T.ports
psql = T.psql
mounted = False


def ready_state():
    st, j, h, _ = req(API, "GET", "/ready")
    return st, (j or {}).get("writes"), h.get("retry-after")


def until_ready(want_status, want_writes, bound=2.0):
    """Waits (bounded) for /ready to say so; returns the seconds it took."""
    t0 = time.time()
    r = wait_for(ready_state, lambda r: r[0] == want_status and r[1] == want_writes, timeout=bound + 3, step=0.05)
    dt = time.time() - t0
    return (r and r[0] == want_status and r[1] == want_writes), dt, r


def superuser(sql):
    subprocess.run(T.cluster + ["sql", T.pgdir, "primary", sql], env=T.cenv, check=True, capture_output=True,
                   timeout=30)


def rows():
    return psql("SELECT (SELECT count(*) FROM audit_log) || ',' || (SELECT count(*) FROM signups)")


try:
    # The cluster's files on a tmpfs of their own, so that the test can fill
    # the primary's disk without touching the machine's.
    os.makedirs(T.pgdir, mode=0o755)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=320m,mode=755", "tmpfs", T.pgdir], check=True,
                   capture_output=True)
    mounted = True
    T.start_cluster()
    check(T.start_mockapi(), "toy-mockapi starts")
    T.start_toyapp(API, META, "ops-a")

    # ---- idempotent writes ----------------------------------------------------------
    def kpost(path, body, key, port=API, timeout=10):
        return req(port, "POST", path, json.dumps(body), {"Idempotency-Key": key}, timeout=timeout)

    def nentries():
        return int(psql("SELECT count(*) FROM audit_log"))

    body = {"userId": "idem-user", "sensitivePayload": "a movie, age: 20"}
    n0 = nentries()
    st1, j1, _, d1 = kpost("/submit-data", body, "key-1")
    st2, j2, _, d2 = kpost("/submit-data", body, '"key-1"')
    check(st1 == 200 and st2 == 200 and d1 == d2 and nentries() == n0 + 1,
          "same key, same request: the original answer, byte for byte, and one entry")
    before = snapshot = psql("SELECT count(*) || ',' || (SELECT count(*) FROM idempotency_keys) FROM audit_log")
    st, j, _, _ = kpost("/submit-data", dict(body, sensitivePayload="another payload"), "key-1")
    check(st == 422 and j["error"] == "idempotency_key_reused" and psql(
        "SELECT count(*) || ',' || (SELECT count(*) FROM idempotency_keys) FROM audit_log") == before,
          "same key, another request: 422 idempotency_key_reused, nothing written")
    st, j, _, _ = kpost("/signup", {"userId": "idem-user"}, "key-1")
    check(st == 422 and j["error"] == "idempotency_key_reused", "same key on another route: 422")
    st, j, _, _ = req(API, "POST", "/signup", json.dumps({"userId": "x"}), {"Idempotency-Key": "a b"})
    check(st == 400 and j["error"] == "bad_header", "a malformed Idempotency-Key: 400 bad_header")
    # A keyed deletion, retried: the same 200 answer, one data_deleted entry.
    st3, j3, _, d3 = kpost("/delete-data/" + j1["receiptId"], {"deletionToken": j1["deletionToken"]}, "key-del")
    st4, j4, _, d4 = kpost("/delete-data/" + j1["receiptId"], {"deletionToken": j1["deletionToken"]}, "key-del")
    st5, j5, _, _ = req(API, "POST", "/delete-data/" + j1["receiptId"],
                        json.dumps({"deletionToken": j1["deletionToken"]}))
    check(st3 == 200 and st4 == 200 and d3 == d4 and st5 == 410 and psql(
        "SELECT count(*) FROM audit_log WHERE action = 'data_deleted' AND receipt_id = '%s'" % j1["receiptId"]) == "1",
          "a keyed deletion retried: the same 200 answer; without the key: 410; one entry")
    # The submission's answer is rebuilt from its entry, which the deletion
    # purged: nothing to give back.
    n0 = nentries()
    st, j, _, _ = kpost("/submit-data", body, "key-1")
    check(st == 410 and j["error"] == "answer_deleted" and nentries() == n0,
          "a keyed submission retried after its deletion: 410 answer_deleted, nothing written")
    # Keyed requests sharing batches: each retry, before and after the
    # sequencer has moved the batch to its segment, rebuilds the answer (entry,
    # batch head, inclusion path) byte for byte; the stored answer is the
    # answer without them.
    first, lock = {}, threading.Lock()

    def many(k):
        for i in range(6):
            key = "multi-%d-%d" % (k, i)
            st, j, _, d = kpost("/submit-data", {"userId": key, "sensitivePayload": "m %d" % i}, key)
            with lock:
                first[key] = (st, j, d)
    ts = [threading.Thread(target=many, args=(k,)) for k in range(16)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    shared = sum(1 for st, j, _ in first.values() if st == 200 and j["inclusionPath"])
    check(len(first) == 96 and all(st == 200 for st, _, _ in first.values()) and shared > 0,
          "96 keyed submissions from 16 clients: all 200, %d in batches of more than one" % shared)

    def retried():
        bad = [k for k, (st, j, d) in first.items()
               if kpost("/submit-data", {"userId": k, "sensitivePayload": "m %s" % k.split("-")[2]}, k)[3] != d]
        return bad
    n0 = nentries()
    bad = retried()
    check(not bad and nentries() == n0, "each retried at once: the same answer, byte for byte (%d differ)" % len(bad))
    sequenced = wait_for(lambda: psql("SELECT count(*) FROM log_queue"), lambda v: v == "0", timeout=20)
    bad = retried()
    check(sequenced == "0" and not bad and nentries() == n0,
          "each retried once its batch is in log_segments: the same answer (%d differ)" % len(bad))
    with open(os.path.join(T.tmp, "toyapp-ops-a.log")) as f:
        logged = [line for line in f if "idempotency_keys_pkey" in line]
    check(not logged, "the retries found by the key's unique violation left no error in toyapp's log (%d lines)"
          % len(logged))
    stored = dict(line.split("|") for line in psql(
        "SELECT idem_key, octet_length(answer) FROM idempotency_keys WHERE idem_key LIKE 'multi-%'").splitlines())

    def compact(v):
        return json.dumps(v, separators=(",", ":"))

    def kept(j, d):
        """The most a stored answer may hold: the answer without its entry,
        batch head and path, and without each of its members of 24 bytes or
        more that the entry holds byte for byte; plus the format's header
        (14 bytes, 5 per part cut, 13 per member cut) and the seal (28)."""
        n = len(d) + 14 + 15 + 28 - sum(len(compact(j[f])) for f in ("auditEntry", "batchHead", "inclusionPath"))
        entry = compact(j["auditEntry"])
        members = ['"%s":%s' % (f, compact(j[f])) for f in ("receiptId", "userIdHash", "payloadCommitment",
                                                           "safeDerivative")]
        assert all(m.encode() in d and m in entry for m in members[1:3]), "the answer holds the entry's hashes"
        return n - sum(len(m) - 13 for m in members if m in entry and len(m) >= 24)
    big = [k for k, (_, j, d) in first.items() if int(stored.get(k, 10 ** 6)) > kept(j, d)]
    sizes = sorted((int(stored.get(k, 0)), len(d)) for k, (_, _, d) in first.items())
    check(len(stored) == 96 and not big,
          "the stored answers hold no entry, batch head, path, or member the entry holds (%d do;"
          " median %d bytes stored for %d)" % ((len(big),) + sizes[len(sizes) // 2]))
    # Concurrent retries of one key: one entry, every answer the same.
    n0, answers, lock = nentries(), [], threading.Lock()

    def race():
        st, _, _, d = kpost("/signup", {"userId": "racer"}, "key-race")
        with lock:
            answers.append((st, d))
    ts = [threading.Thread(target=race) for _ in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    check(len(set(answers)) == 1 and answers[0][0] == 201 and nentries() == n0 + 1,
          "8 concurrent requests with one key: one entry, 8 identical answers (%s)" % sorted(set(a[0] for a in answers)))
    # The stored answer is sealed: a keyed receipt's token is in no table.
    st, jr, _, _ = kpost("/submit-data", {"userId": "sealed", "sensitivePayload": "x"}, "key-sealed")
    dump = subprocess.run(["pg_dump", T.db, "--data-only"], capture_output=True, timeout=60).stdout
    check(st == 200 and jr["deletionToken"].encode() not in dump and bytes.fromhex(jr["deletionToken"]) not in dump
          and jr["salt"].encode() not in dump and b"key-sealed" in dump,
          "the stored answer is sealed: the key is stored, the token and the salt are not (pg_dump)")
    # Keys expire: a second instance keeps them 1 s.
    T.start_toyapp(API2, META2, "ops-b", {"IDEMPOTENCY_TTL_SECONDS": "1"})
    st, ja, _, _ = kpost("/signup", {"userId": "short"}, "key-ttl", port=API2)
    time.sleep(2.5)   # the key's lifetime is the subject: let it pass
    n0 = nentries()
    st, jb, _, _ = kpost("/signup", {"userId": "short"}, "key-ttl", port=API2)
    check(st == 201 and jb["auditEntry"] != ja["auditEntry"] and nentries() == n0 + 1,
          "an expired key is a new request: a new entry")

    # kill -9 under load, every request keyed; what went unanswered is
    # retried, with its key, on the other instance until it is answered.
    stop, lock = threading.Event(), threading.Lock()
    sent, answered = {}, {}
    receipts0 = int(psql("SELECT count(*) FROM user_data_receipts"))

    def load(k):
        i = 0
        while not stop.is_set():
            key, b = "load-%d-%d" % (k, i), {"userId": "load-%d-%d" % (k, i), "sensitivePayload": "x %d" % i}
            with lock:
                sent[key] = b
            try:
                st, j, _, _ = kpost("/submit-data", b, key, port=API2, timeout=3)
                if st == 200:
                    with lock:
                        answered[key] = j["receiptId"]
            except (OSError, http.client.HTTPException):
                pass
            i += 1
    ts = [threading.Thread(target=load, args=(k,)) for k in range(8)]
    for t in ts:
        t.start()
    wait_for(lambda: len(answered), lambda n: n >= 60, timeout=60)
    T.procs[-1].send_signal(signal.SIGKILL)
    stop.set()
    for t in ts:
        t.join()
    first = dict(answered)
    unanswered = [k for k in sent if k not in answered]
    for key in unanswered:
        r = wait_for(lambda: kpost("/submit-data", sent[key], key), lambda r: r[0] == 200, timeout=20)
        if r and r[0] == 200:
            answered[key] = r[1]["receiptId"]
    stored = int(psql("SELECT count(*) FROM user_data_receipts WHERE receipt_id IN (%s)"
                      % ",".join("'%s'" % v for v in answered.values())))
    keys = int(psql("SELECT count(*) FROM idempotency_keys WHERE idem_key LIKE 'load-%'"))
    created = int(psql("SELECT count(*) FROM user_data_receipts")) - receipts0
    check(len(answered) == len(sent) and stored == len(sent) and keys == len(sent) and created == len(sent),
          "kill -9 under load: %d requests, %d unanswered then retried with their keys: %d answered,"
          " %d receipts made, %d keys: exactly one entry per request"
          % (len(sent), len(unanswered), len(answered), created, keys))
    # Those the killed instance answered, asked again: the same receipt.
    again = [kpost("/submit-data", sent[k], k)[1]["receiptId"] for k in list(first)[:20]]
    check(again == [first[k] for k in list(first)[:20]], "a retry of an answered request gets the same receipt")

    ok, dt, r = until_ready(200, "accepted", bound=5)
    check(ok, "GET /ready: 200, writes accepted (%s)" % (r,))
    st, j, _, _ = req(API, "POST", "/signup", json.dumps({"userId": "before"}))
    check(st == 201, "a write works")

    # ---- read-only ----------------------------------------------------------------
    superuser("ALTER SYSTEM SET default_transaction_read_only = on")
    superuser("SELECT pg_reload_conf()")
    ok, dt, r = until_ready(503, "read_only")
    check(ok and dt < 2 and r[2], "read-only primary: /ready 503 with Retry-After, writes read_only, in %.2fs" % dt)
    st, j, _, _ = req(API, "GET", "/health")
    check(st == 200 and j["writes"] == "read_only" and j["primary"] == "up" and j["status"] == "degraded",
          "read-only primary: /health 200 (alive) says writes read_only, status degraded")
    before = rows()
    st, j, h, _ = req(API, "POST", "/signup", json.dumps({"userId": "during-ro"}))
    check(st == 503 and j["error"] == "database_unavailable" and h.get("retry-after") and rows() == before,
          "read-only primary: a write answers 503 and changes nothing")
    superuser("ALTER SYSTEM RESET default_transaction_read_only")
    superuser("SELECT pg_reload_conf()")
    ok, dt, r = until_ready(200, "accepted")
    check(ok and dt < 2, "read-only lifted: /ready 200 again in %.2fs" % dt)
    st, j, _, _ = req(API, "POST", "/signup", json.dumps({"userId": "after-ro"}))
    check(st == 201, "read-only lifted: writes work without a restart")

    # ---- primary unreachable ----------------------------------------------------------
    T.cluster_cmd("stop-primary")
    ok, dt, r = until_ready(503, "unreachable")
    check(ok and dt < 2, "primary stopped: /ready 503, writes unreachable, in %.2fs" % dt)
    st, j, _, _ = req(API, "GET", "/health")
    check(st == 200 and j["primary"] == "down" and j["status"] == "degraded",
          "primary stopped: /health 200, primary down, degraded (reads from the replica): %s" % j)
    T.cluster_cmd("start-primary")
    ok, dt, r = until_ready(200, "accepted", bound=10)
    check(ok, "primary back: /ready 200 again (%.2fs)" % dt)
    # ---- disk full (last: the replica, on the same disk, does not survive it) ----
    filler = os.path.join(T.pgdir, "filler")
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    for size in (1 << 20, 4096, 1):
        try:
            while True:
                os.write(fd, b"\0" * size)
        except OSError:
            pass
    os.close(fd)
    st_fs = os.statvfs(T.pgdir)
    check(st_fs.f_bavail == 0, "the primary's disk is full (%d blocks free)" % st_fs.f_bavail)
    ok, dt, r = until_ready(503, "disk_full")
    check(ok and dt < 2, "full disk: /ready 503, writes disk_full, in %.2fs (%s)" % (dt, r,))
    st, j, _, _ = req(API, "GET", "/health")
    check(st == 200 and j["writes"] == "disk_full", "full disk: /health 200 says writes disk_full")
    before = rows()
    answers = [req(API, "POST", "/submit-data",
                   json.dumps({"userId": "full-%d" % i, "sensitivePayload": "x" * 2000}))[:2] for i in range(5)]
    codes = [a[0] for a in answers]
    check(all(c in (200, 503) for c in codes), "full disk: writes answer 200 or 503, nothing else (%s)" % codes)
    acked = codes.count(200)
    # A commit the replica (on the same full disk) could not confirm in
    # time stands on the primary alone: 503 replication_unconfirmed says so
    # (a retry with the same Idempotency-Key would get its answer).
    unconfirmed = sum(1 for st, j in answers if st == 503 and (j or {}).get("error") == "replication_unconfirmed")
    after = rows()
    check(int(after.split(",")[0]) == int(before.split(",")[0]) + acked + unconfirmed,
          "full disk: stored are exactly the acknowledged writes and those answered replication_unconfirmed"
          " (%d acked, %d unconfirmed, rows %s -> %s)" % (acked, unconfirmed, before, after))
    os.unlink(filler)
    # The replica shares the disk and stopped; with SYNC_REPLICA=require
    # (the default) writes wait for it to be back.
    T.cluster_cmd("start-replica")
    ok, dt, r = until_ready(200, "accepted")
    check(ok and dt < 2, "space freed, replica started: /ready 200 again in %.2fs" % dt)
    st, j, _, _ = req(API, "POST", "/signup", json.dumps({"userId": "after-full"}))
    check(st == 201, "space freed: writes work without a restart")

finally:
    if mounted:
        # The cluster's processes must be gone before the tmpfs is.
        subprocess.run(T.cluster + ["stop", T.pgdir], env=T.cenv, capture_output=True, timeout=60)
        for p in T.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        subprocess.run(["umount", "-l", T.pgdir], capture_output=True)
    T.stop()

sys.exit(summary())

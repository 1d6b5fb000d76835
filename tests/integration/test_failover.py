#!/usr/bin/env python3
"""Fault test: the primary's machine is lost under load.

A real Postgres primary and synchronous replica (postgres/cluster.sh), the
real toy-mockapi and toyapp (SYNC_REPLICA=require, the default), on
127.0.0.1.  Eight clients submit data while a ninth keeps reading the signed
tree head.  Then every process of the primary is killed with SIGKILL and its
data directory deleted; the replica is promoted (cluster.sh promote) and a
toyapp started on it (SYNC_REPLICA=degrade: it has no standby of its own).

  - every acknowledged receipt is on the promoted node, with its entry, and
    verifies (toyctl verify-receipt: the entry, its inclusion proof, the
    signed head);
  - the log continues from the last signed head any client saw: new writes
    are sequenced after it, and GET /log/consistency proves the new head
    extends it (RFC 9162 check), and the promoted node holds that very head;
  - nothing acknowledged is recorded twice (one entry per receipt id).

Ends with "N passed, M failed".  Env: BUILD (default build)."""
import http.client, json, os, shutil, signal, subprocess, sys, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from itlib import BUILD, Topology, check, req, summary, verify_consistency, wait_for  # noqa: E402

T = Topology(nports=7)
PG_P, PG_R, MOCK, API, META, API2, META2 = T.ports
TOYCTL = os.path.join(BUILD, "toyctl")


def kill_primary():
    """SIGKILL to the postmaster and every process it started, then the data
    directory is deleted: the machine and its disk are gone."""
    datadir = os.path.join(T.pgdir, "primary")
    with open(os.path.join(datadir, "postmaster.pid")) as f:
        pm = int(f.readline())
    kids = subprocess.run(["pgrep", "-P", str(pm)], capture_output=True, text=True).stdout.split()
    for pid in [pm] + [int(k) for k in kids]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    wait_for(lambda: subprocess.run(["pgrep", "-f", datadir], capture_output=True).returncode,
             lambda rc: rc != 0, timeout=10)
    shutil.rmtree(datadir)


try:
    T.start_cluster()
    check(T.start_mockapi(), "toy-mockapi starts")
    app = T.start_toyapp(API, META, "fo-a")
    pub = req(META, "GET", "/info")[1]["publicKey"]

    # ---- load, and a reader of signed heads ---------------------------------------------
    acked, heads, lock, stop = {}, [], threading.Lock(), threading.Event()

    def load(k):
        n = 0
        while not stop.is_set():
            payload = "payload %d-%d" % (k, n)
            try:
                st, j, _, _ = req(API, "POST", "/submit-data",
                                  json.dumps({"userId": "fo-%d-%d" % (k, n), "sensitivePayload": payload}),
                                  {"Idempotency-Key": "fo-%d-%d" % (k, n)}, timeout=3)
                if st == 200:
                    with lock:
                        acked[j["receiptId"]] = (j, payload)
            except (OSError, http.client.HTTPException):
                pass
            n += 1

    def watch_heads():
        while not stop.is_set():
            try:
                st, h, _, _ = req(API, "GET", "/log/head", timeout=3)
                if st == 200:
                    with lock:
                        heads.append(h)
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.02)
    ts = [threading.Thread(target=load, args=(k,)) for k in range(8)] + [threading.Thread(target=watch_heads)]
    for t in ts:
        t.start()
    wait_for(lambda: (len(acked), len(heads)), lambda n: n[0] >= 200 and n[1] >= 3, timeout=60)

    # ---- the primary's machine is lost --------------------------------------------------
    kill_primary()
    time.sleep(0.5)   # the clients meet the dead primary: their writes fail, unacknowledged
    stop.set()
    for t in ts:
        t.join()
    app.send_signal(signal.SIGKILL)
    app.wait()
    check(len(acked) >= 200, "under load: %d writes acknowledged before the primary was lost" % len(acked))
    last = max(heads, key=lambda h: h["treeSize"])

    T.cluster_cmd("promote")
    check(T.psql("SELECT pg_is_in_recovery()", T.db_r) == "f", "cluster.sh promote: the replica takes writes")
    T.db, T.db_r = T.db_r, ""
    T.start_toyapp(API2, META2, "fo-b", {"SYNC_REPLICA": "degrade"})
    st, hl, _, _ = req(API2, "GET", "/health")
    check(st == 200 and hl["replica"] == "none" and hl["acknowledged"] == "one_node",
          "toyapp on the promoted node: /health says it acknowledges on one node (%s)" % hl.get("acknowledged"))

    # ---- every acknowledged receipt is there and verifies -------------------------------
    stored = T.psql("SELECT receipt_id FROM audit_log WHERE action = 'data_received'").split()
    missing = [r for r in acked if r not in set(stored)]
    check(not missing, "all %d acknowledged receipts are on the promoted node (%d missing)" % (len(acked), len(missing)))
    check(len(stored) == len(set(stored)), "one entry per receipt id (%d entries)" % len(stored))
    # New writes, so that the log grows past the last head seen.
    for i in range(5):
        req(API2, "POST", "/submit-data", json.dumps({"userId": "after-%d" % i, "sensitivePayload": "after"}))
    tmp = os.path.join(T.tmp, "verify")
    os.makedirs(tmp)
    bad = []
    for rid, (receipt, payload) in sorted(acked.items()):
        pr = wait_for(lambda: req(API2, "GET", "/receipts/%s/proof" % rid), lambda r: r[0] == 200, timeout=20)
        rf, pf = os.path.join(tmp, "r.json"), os.path.join(tmp, "p.json")
        with open(rf, "w") as f:
            json.dump(receipt, f)
        with open(pf, "w") as f:
            json.dump(pr[1] if pr else {}, f)
        out = subprocess.run([TOYCTL, "verify-receipt", rf, "--proof", pf, "--payload", payload, "--pubkey", pub],
                             capture_output=True, text=True)
        if out.returncode:
            bad.append((rid, out.stdout[-200:]))
    check(not bad, "every acknowledged receipt verifies on the promoted node (toyctl verify-receipt; %d failed%s)"
          % (len(bad), (": %s" % (bad[0],)) if bad else ""))

    # ---- the log continues from the last signed head seen --------------------------------
    new = wait_for(lambda: req(API2, "GET", "/log/head")[1], lambda h: h and h["treeSize"] > last["treeSize"],
                   timeout=20)
    st, cp, _, _ = req(API2, "GET", "/log/consistency?from=%d&to=%d" % (last["treeSize"], new["treeSize"]))
    ok = st == 200 and verify_consistency(last["treeSize"], new["treeSize"], bytes.fromhex(last["root"]),
                                          bytes.fromhex(new["root"]), [bytes.fromhex(x) for x in cp["path"]])
    check(ok, "the new head (%d) extends the last head a client saw before the loss (%d): consistency verifies"
          % (new["treeSize"], last["treeSize"]))
    seen = {h["treeSize"]: h["root"] for h in heads}
    st, old_on_new, _, _ = req(API2, "GET", "/log/consistency?from=%d&to=%d" % (last["treeSize"], last["treeSize"]))
    check(st == 200 and old_on_new["treeHead"]["root"] == last["root"],
          "the promoted node holds the very head the clients saw (%d heads seen)" % len(seen))
    leaves = T.psql("SELECT count(*) || ',' || count(DISTINCT leaf_index) || ',' || coalesce(max(leaf_index), -1)"
                    " || ',' || count(DISTINCT audit_id) || ',' || (SELECT tree_size FROM tree_state WHERE id = 1)"
                    " FROM log_leaf_range(0, (SELECT tree_size FROM tree_state WHERE id = 1))")
    n, d, mx, a, size = (int(x) for x in leaves.split(","))
    check(n == d == a == mx + 1 == size, "one log: leaf indexes 0..n-1, no gap, no repeat, one entry each (%s)" % leaves)
finally:
    T.stop()

sys.exit(summary())

#!/usr/bin/env python3
"""Integration tests of synchronous replication, against a real Postgres
primary and synchronous replica (postgres/cluster.sh) and two toyapp
instances on 127.0.0.1: A with SYNC_REPLICA=require (the default), B with
SYNC_REPLICA=degrade.

  - both nodes up: /health and /ready say replication sync, acknowledged
    two_nodes; writes are acknowledged;
  - replica stopped: a write in flight on A is not acknowledged (503
    replication_unconfirmed after SYNC_WAIT_MS, or replica_unavailable);
    within 2 s A's /ready is 503 (acknowledged refused) and its writes 503
    replica_unavailable, changing nothing; B's /ready stays 200 and says
    one_node, its writes are acknowledged, and no tree head covers them
    while the replica is away (a head is published only on two nodes);
  - replica back: A's /ready is 200 again, the write that was in flight,
    retried with its Idempotency-Key, has exactly one entry; B's entries
    are sequenced and their proofs verify;
  - reads from a lagging replica (replay paused, primary stopped) carry
    Data-Source: replica, Replica-Lag-Bytes > 0 and Replica-Lag-Ms; once the
    replica has replayed, the lag is 0 and the read sees the write.

Ends with "N passed, M failed".  Env: BUILD (default build)."""
import json, os, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from itlib import Topology, check, req, summary, verify_inclusion, wait_for  # noqa: E402

T = Topology(nports=7)
PG_P, PG_R, MOCK, A, META_A, B, META_B = T.ports
WAIT_MS = 1000


def state(port, path):
    st, j, h, _ = req(port, "GET", path)
    return st, j or {}, h


def until(port, path, pred, bound):
    t0 = time.time()
    r = wait_for(lambda: state(port, path), lambda r: pred(*r), timeout=bound, step=0.05)
    return bool(r and pred(*r)), time.time() - t0, r


def entries():
    return int(T.psql("SELECT count(*) FROM audit_log"))


def tree_size():
    return int(T.psql("SELECT coalesce(max(tree_size), 0) FROM tree_heads") or 0)


def submit(port, user, key=None, timeout=15):
    hdr = {"Idempotency-Key": key} if key else None
    t0 = time.time()
    st, j, h, d = req(port, "POST", "/submit-data", json.dumps({"userId": user, "sensitivePayload": "p " + user}),
                      hdr, timeout=timeout)
    return st, j or {}, h, d, time.time() - t0


def leaf_of(receipt_id):
    return bytes.fromhex(T.psql("SELECT encode(leaf_hash, 'hex') FROM audit_log WHERE receipt_id = '%s'"
                                " AND action = 'data_received'" % receipt_id))


def proof_verifies(port, receipt_id):
    st, pr, _ = state(port, "/receipts/%s/proof" % receipt_id)
    if st != 200:
        return False
    return verify_inclusion(pr["leafIndex"], pr["treeSize"], leaf_of(receipt_id),
                            [bytes.fromhex(x) for x in pr["path"]], bytes.fromhex(pr["treeHead"]["root"]))


try:
    T.start_cluster()
    check(T.start_mockapi(), "toy-mockapi starts")
    T.start_toyapp(A, META_A, "sync-a", {"SYNC_WAIT_MS": str(WAIT_MS)})
    T.start_toyapp(B, META_B, "sync-b", {"SYNC_REPLICA": "degrade", "SYNC_WAIT_MS": str(WAIT_MS)})

    # ---- both nodes up ----------------------------------------------------------------
    for name, port in (("A (require)", A), ("B (degrade)", B)):
        ok, _, r = until(port, "/ready", lambda st, j, h: st == 200 and j.get("acknowledged") == "two_nodes", 10)
        check(ok and r[1]["replication"] == "sync", "%s: /ready 200, replication sync, acknowledged two_nodes" % name)
    st, j, _ = state(A, "/health")
    check(st == 200 and j["status"] == "ok" and j["replication"] == "sync" and j["acknowledged"] == "two_nodes",
          "/health: ok, replication sync, acknowledged two_nodes")
    st, j, _, _, _ = submit(A, "both-up")
    check(st == 200 and j.get("receiptId"), "a write is acknowledged with both nodes up")

    # ---- replica stopped --------------------------------------------------------------
    T.cluster_cmd("stop-replica")
    # A write already on its way: its commit waits for the replica, which
    # does not come; it is not acknowledged.
    st, j, h, _, dt = submit(A, "in-flight", key="key-in-flight")
    check(st == 503 and j.get("error") in ("replication_unconfirmed", "replica_unavailable") and h.get("retry-after")
          and dt < WAIT_MS / 1000 + 2,
          "replica gone: a write on A is not acknowledged: 503 %s in %.2fs" % (j.get("error"), dt))
    ok, dt, r = until(A, "/ready", lambda st, j, h: st == 503 and j.get("acknowledged") == "refused", 3)
    check(ok and dt < 2 and r[1]["replication"] == "missing" and r[2].get("retry-after"),
          "require: /ready 503, replication missing, acknowledged refused, in %.2fs" % dt)
    st, j, _ = state(A, "/health")
    check(st == 200 and j["status"] == "degraded" and j["acknowledged"] == "refused",
          "require: /health 200 (alive), status degraded, acknowledged refused")
    n0 = entries()
    st, j, h, _, _ = submit(A, "refused")
    st2, j2, _, _ = req(A, "POST", "/signup", json.dumps({"userId": "refused"}))
    check(st == 503 and j.get("error") == "replica_unavailable" and h.get("retry-after") and st2 == 503
          and entries() == n0, "require: writes answer 503 replica_unavailable and change nothing")

    ok, dt, r = until(B, "/ready", lambda st, j, h: st == 200 and j.get("acknowledged") == "one_node", 3)
    check(ok and r[1]["replication"] == "missing", "degrade: /ready 200, acknowledged one_node, in %.2fs" % dt)
    st, j, _ = state(B, "/health")
    check(st == 200 and j["status"] == "degraded" and j["acknowledged"] == "one_node",
          "degrade: /health says status degraded, acknowledged one_node")
    size0 = tree_size()
    degraded = [submit(B, "degraded-%d" % i) for i in range(5)]
    check(all(d[0] == 200 for d in degraded) and entries() == n0 + 5,
          "degrade: writes are acknowledged on the primary alone (%s)" % [d[0] for d in degraded])
    time.sleep(1.0)   # what must not happen is the subject: give the sequencer time to (not) publish
    st, hd, _ = state(B, "/log/head")
    check(tree_size() == size0 and (st == 404 or hd.get("treeSize", 0) <= size0),
          "degrade: no tree head covers them while the replica is away (%d, %d)" % (tree_size(), size0))

    # ---- replica back -----------------------------------------------------------------
    T.cluster_cmd("start-replica")
    ok, dt, r = until(A, "/ready", lambda st, j, h: st == 200 and j.get("acknowledged") == "two_nodes", 10)
    check(ok, "replica back: A's /ready 200, two_nodes, in %.2fs" % dt)
    st, j, _, _, _ = submit(A, "in-flight", key="key-in-flight")
    n_key = T.psql("SELECT count(*) FROM audit_log a JOIN idempotency_keys k ON k.idem_key = 'key-in-flight'"
                   " WHERE a.action = 'data_received' AND a.receipt_id = '%s'" % j.get("receiptId"))
    check(st == 200 and n_key == "1", "the write that was in flight, retried with its key: 200, one entry")
    rids = [d[1]["receiptId"] for d in degraded]
    ok = wait_for(lambda: all(proof_verifies(B, r) for r in rids), lambda x: x, timeout=15)
    check(ok, "degrade: once the replica is back, every acknowledged entry is sequenced and its proof verifies")
    st, j, _, _, _ = submit(B, "after")
    check(st == 200, "degrade: writes acknowledged on two nodes again")

    # ---- reads from a lagging replica -------------------------------------------------
    T.cluster_cmd("catchup")
    subprocess.run(T.cluster + ["sql", T.pgdir, "replica", "SELECT pg_wal_replay_pause()"], env=T.cenv,
                   check=True, capture_output=True, timeout=30)
    st, lag_w, _, _, _ = submit(A, "lagging")
    check(st == 200, "replay paused: a write is still acknowledged (the replica flushes, it does not replay)")
    T.cluster_cmd("stop-primary")
    path = "/receipts/%s/proof" % lag_w["receiptId"]
    st, j, h = state(A, path)
    check(st == 404 and h.get("data-source") == "replica" and int(h.get("replica-lag-bytes", "0")) > 0
          and int(h.get("replica-lag-ms", "-1")) >= 0,
          "primary down, replica behind: the read says it is from the replica, and how far behind (%d, %s, %s)"
          % (st, h.get("replica-lag-bytes"), h.get("replica-lag-ms")))
    st, j, h = state(A, "/log/head")
    check(st == 200 and h.get("data-source") == "replica" and "replica-lag-bytes" in h,
          "every read from the replica carries the headers (GET /log/head)")
    subprocess.run(T.cluster + ["sql", T.pgdir, "replica", "SELECT pg_wal_replay_resume()"], env=T.cenv,
                   check=True, capture_output=True, timeout=30)
    r = wait_for(lambda: state(A, "/receipts/%s/proof" % rids[0]),
                 lambda r: r[2].get("replica-lag-bytes") == "0", timeout=10)
    check(r and r[0] == 200 and r[2].get("replica-lag-ms") == "0",
          "replica replayed: lag 0 bytes and 0 ms, the read sees the write (%s)" % (r and r[2].get("replica-lag-bytes")))
    T.cluster_cmd("start-primary")
    ok, _, r = until(A, "/receipts/%s/proof" % rids[0], lambda st, j, h: st == 200 and "data-source" not in h, 10)
    check(ok, "primary back: reads from the primary carry no replica headers")
finally:
    T.stop()

sys.exit(summary())

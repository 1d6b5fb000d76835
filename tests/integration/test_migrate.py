#!/usr/bin/env python3
"""Migration test: a database whose log is a row per leaf (log_leaves) and
whose queue rows name no batch, as releases before log segments left it,
is taken over by this release with nothing lost.

A real Postgres primary and replica, toy-mockapi and toyapp on 127.0.0.1.
toyapp writes entries and sequences some; the test then turns the database
back into the older layout (log_leaves from the segments, queue rows
without their batch, migrations 20-21 and log_leaf_range unrecorded) and
starts toyapp again:

  - every receipt written before still has its inclusion proof, which
    verifies against the signed head (RFC 9162 check);
  - entries queued the old way are sequenced, and new entries after them;
  - the log is one sequence: leaves 0..n-1, each entry once;
  - log_leaves is gone, and log_leaf_range lists the leaves.

Ends with "N passed, M failed".  Env: BUILD (default build)."""
import json, os, signal, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from itlib import Topology, check, req, summary, verify_inclusion, wait_for  # noqa: E402

T = Topology(nports=5)
PG_P, PG_R, MOCK, API, META = T.ports
psql = T.psql


def submit(i):
    st, j, _, _ = req(API, "POST", "/submit-data", json.dumps({"userId": "m-%d" % i, "sensitivePayload": "p %d" % i}))
    return j["receiptId"] if st == 200 else None


def proof_ok(rid):
    st, pr, _, _ = req(API, "GET", "/receipts/%s/proof" % rid)
    if st != 200:
        return False
    leaf = bytes.fromhex(psql("SELECT encode(leaf_hash, 'hex') FROM audit_log WHERE receipt_id = '%s'"
                              " AND action = 'data_received'" % rid))
    return verify_inclusion(pr["leafIndex"], pr["treeSize"], leaf, [bytes.fromhex(x) for x in pr["path"]],
                            bytes.fromhex(pr["treeHead"]["root"]))


try:
    T.start_cluster()
    check(T.start_mockapi(), "toy-mockapi starts")
    app = T.start_toyapp(API, META, "mig-a", {"SEQUENCER": "1"})
    before = [submit(i) for i in range(40)]
    wait_for(lambda: psql("SELECT count(*) FROM log_queue"), lambda n: n == "0", timeout=15)
    # Stop sequencing, then queue more: those wait in log_queue.
    app.send_signal(signal.SIGTERM)
    app.wait()
    app = T.start_toyapp(API, META, "mig-a", {"SEQUENCER": "0"})
    queued = [submit(100 + i) for i in range(10)]
    app.send_signal(signal.SIGTERM)
    app.wait()
    check(all(before) and all(queued) and psql("SELECT count(*) FROM log_queue") != "0",
          "50 entries written, 40 sequenced, 10 queued")

    # The older layout: a row per leaf, queue rows without their batch.
    psql("""BEGIN;
CREATE TABLE log_leaves (leaf_index bigint PRIMARY KEY, audit_id bigint UNIQUE NOT NULL, leaf_hash bytea NOT NULL);
INSERT INTO log_leaves SELECT * FROM log_leaf_range(0, (SELECT tree_size FROM tree_state WHERE id = 1));
DELETE FROM log_segments;
INSERT INTO log_queue (batch_id, audit_ids, leaf_hashes)
  SELECT NULL, string_agg(audit_ids, ''::bytea ORDER BY id), string_agg(leaf_hashes, ''::bytea ORDER BY id)
  FROM log_queue;
DELETE FROM log_queue WHERE batch_id IS NOT NULL;
DROP FUNCTION log_leaf_range(bigint, bigint);
DELETE FROM schema_migrations WHERE version IN (20, 21);
COMMIT""")
    check(psql("SELECT count(*) FROM log_leaves") == "40" and psql("SELECT count(*) FROM log_queue") == "1"
          and psql("SELECT count(*) FROM log_segments") == "0",
          "the older layout: 40 rows in log_leaves, one queue row without a batch, no segment")

    T.start_toyapp(API, META, "mig-b")
    check(psql("SELECT to_regclass('log_leaves') IS NULL") == "t", "migration 21: log_leaves is gone")
    after = [submit(200 + i) for i in range(10)]
    everyone = before + queued + after
    ok = wait_for(lambda: sum(proof_ok(r) for r in everyone), lambda n: n == len(everyone), timeout=20)
    check(ok, "every receipt, written before, queued the old way, or written after, has a proof that verifies")
    stats = psql("SELECT count(*) || ',' || count(DISTINCT leaf_index) || ',' || (max(leaf_index) + 1)"
                 " || ',' || count(DISTINCT audit_id) || ',' || (SELECT count(*) FROM audit_log)"
                 " FROM log_leaf_range(0, (SELECT tree_size FROM tree_state WHERE id = 1))")
    check(stats == ",".join([stats.split(",")[0]] * 5) and stats.startswith("60,"),
          "one log: 60 leaves, 0..59, each entry once (%s)" % stats)
    seg = psql("SELECT count(*) FILTER (WHERE size = 1 AND batch_id < 0) || ',' || count(*) FILTER (WHERE batch_id > 0)"
               " FROM log_segments")
    old, new = (int(x) for x in seg.split(","))
    check(old == 50 and new >= 1,
          "the 40 old leaves and the 10 queued the old way are one-entry segments; new batches have theirs (%s)" % seg)
    check(len(psql("SELECT encode(leaf_hash, 'hex') FROM log_leaf_range(10, 20)").split()) == 10,
          "log_leaf_range(10, 20) lists 10 leaves")
finally:
    T.stop()

sys.exit(summary())

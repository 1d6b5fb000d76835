#!/usr/bin/env python3
"""Integration test: toyapp with the chain, end to end.  A real Postgres
primary and replica (postgres/cluster.sh), a real anvil with the registries
deployed (scripts/chain.sh) and toyapp instances, all on 127.0.0.1.

A deletion is posted by toyapp's own poster thread; its deletion_posted
entry enters the log (its leaf in the signed tree); GET
/receipts/:id/deletion says where the record is; toyctl verify-deletion
checks the record from the receipt id alone, its key and sender bound by
the running enclave's attestation.  Faults: the chain stopped during 50
deletions, toyapp killed -9 while a transaction is in flight (then mined,
or dropped), a stop while a commit waits for a synchronous replica that
is away.  CHAIN=off: no poster, /info's chain null, the attestation binds
the Ed25519 key alone.  The last line is "N passed, M failed"."""
import base64, hashlib, json, os, signal, socket, subprocess, sys, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from itlib import (BUILD, ROOT, TOYCTL, Topology, check, req, summary, verify_inclusion, wait_for,  # noqa: E402
                   ws_split)

T = Topology(nports=10)
API, META, API2, META2, API3, META3 = T.ports[3:9]
ETHERS = ["node", os.path.join(ROOT, "tests", "chain", "ethers_check.js")]


def post(port, path, body):
    return req(port, "POST", path, json.dumps(body))


def submit(port, user):
    st, r, _, _ = post(port, "/submit-data", {"userId": user, "sensitivePayload": "a movie, age: 30"})
    return r if st == 200 else None


def delete(port, receipt):
    st, r, _, _ = post(port, "/delete-data/" + receipt["receiptId"], {"deletionToken": receipt["deletionToken"]})
    return st


def status(port, rid):
    return req(port, "GET", "/receipts/%s/deletion" % rid)


def posted(port, rid, timeout=30):
    """The deletion's status once posted (or whatever it is after timeout)."""
    return wait_for(lambda: status(port, rid), lambda v: v[0] == 200 and v[1]["status"] == "posted",
                    timeout=timeout)


def all_posted(ids, timeout):
    """The statuses of the deletions of ids once all are posted (or as they
    are after timeout seconds)."""
    return wait_for(lambda: [status(API, i)[1]["status"] for i in ids], lambda v: all(s == "posted" for s in v),
                    timeout=timeout, step=0.5)


def posted_entries(ids):
    """"COUNT|DISTINCT": the deletion_posted entries of receipts ids."""
    return T.psql("SELECT count(*), count(DISTINCT receipt_id) FROM audit_log WHERE action = 'deletion_posted'"
                  " AND receipt_id IN (%s)" % ",".join("'%s'" % i for i in ids))


def events():
    """DeletionRecorded events on the registry, as ethers counts them."""
    out = subprocess.run(ETHERS + ["count", T.chain["CHAIN_RPC_URL"], T.chain["CHAIN_DELETION_REGISTRY"]],
                         capture_output=True, text=True, timeout=60).stdout
    return json.loads(out) if out.strip() else {"events": -1, "distinct": -1}


def toyctl(*args):
    r = subprocess.run([TOYCTL] + list(args), capture_output=True, text=True, timeout=120)
    return r.returncode, r.stdout + r.stderr


def rfc6962_root(leaves):
    """The RFC 6962 root of a list of leaf hashes."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + rfc6962_root(leaves[:k]) + rfc6962_root(leaves[k:])).digest()


def ws_frames(port, query, last, timeout=20):
    """The frames of GET /ws (raw socket, RFC 6455), parsed, until last(frame)."""
    key = base64.b64encode(os.urandom(16)).decode()
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(("GET /ws%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (query, port, key)).encode())
    buf, frames, deadline = b"", [], time.time() + timeout
    while b"\r\n\r\n" not in buf and time.time() < deadline:
        buf += s.recv(65536)
    buf = buf.partition(b"\r\n\r\n")[2]
    while time.time() < deadline:
        got = ws_split(buf)
        if got:
            _, payload, buf = got
            frames.append(json.loads(payload))
            if last(frames[-1]):
                break
            continue
        try:
            c = s.recv(1 << 20)
        except OSError:    # a feed that stopped sending: the frames so far
            break
        if not c:
            break
        buf += c
    s.close()
    return frames


def pool_has_tx():
    st = T.rpc("txpool_status") or {}
    return int(st.get("pending", "0x0"), 16) > 0


def start(port, meta, cvm, extra=None):
    env = dict(T.chain)
    env.update(extra or {})
    return T.start_toyapp(port, meta, cvm, env)


def kill9(p):
    p.send_signal(signal.SIGKILL)
    p.wait()


def main():
    T.start_cluster()
    T.start_mockapi()
    chain = T.start_chain()
    env_keys = dict(os.environ, TEE_PROVIDER="sim", TEE_SIM_SEED=T.seed, APP_ID=T.app_id, **chain)
    keys = subprocess.run([TOYCTL, "tee-info", "--keys"], env=env_keys, capture_output=True, text=True).stdout
    enclave = dict(l.split("=", 1) for l in keys.split() if "=" in l).get("enclaveAddress")

    # ---- chain on without a registry: a clear startup error ---------------------------
    base = dict(os.environ, PORT=str(API), METADATA_PORT=str(META), DATABASE_URL=T.db, TEE_PROVIDER="sim",
                TEE_SIM_SEED=T.seed, APP_ID=T.app_id, CHAIN="on", CHAIN_RPC_URL=chain["CHAIN_RPC_URL"],
                CHAIN_DELETION_REGISTRY=chain["CHAIN_DELETION_REGISTRY"])
    base.pop("CHAIN_APP_REGISTRY", None)
    r = subprocess.run([os.path.join(BUILD, "toyapp")], env=base, capture_output=True, text=True, timeout=30)
    check(r.returncode == 2 and "CHAIN is on but CHAIN_APP_REGISTRY is not set; set it, or CHAIN=off" in r.stderr,
          "CHAIN on without CHAIN_APP_REGISTRY: toyapp refuses to start, saying what to set (exit %d: %s)"
          % (r.returncode, r.stderr.strip()[-160:]))

    # ---- /info, a deletion posted, its entry in the log ------------------------------
    app = start(API, META, "cs-a")
    st, info, _, _ = req(META, "GET", "/info")
    ch = (info or {}).get("chain") or {}
    check(st == 200 and ch == {"rpcUrl": chain["CHAIN_RPC_URL"], "chainId": int(chain["CHAIN_ID"]),
                               "deletionRegistry": chain["CHAIN_DELETION_REGISTRY"],
                               "appRegistry": chain["CHAIN_APP_REGISTRY"], "enclaveAddress": enclave},
          "/info's chain: the node, chain id, both registries and the enclave address toyctl tee-info derives (%s)"
          % json.dumps(ch))

    rec = submit(API, "alice")
    st, j, _, _ = status(API, rec["receiptId"])
    check(st == 404 and j["error"] == "not_deleted", "GET /receipts/:id/deletion before the deletion: 404 not_deleted")
    st, j, _, _ = status(API, "r_0000000000000000000000000000beef")
    check(st == 404 and j["error"] == "unknown_receipt", "... of a receipt never issued: 404 unknown_receipt")
    st, j, _, _ = status(API, "NOT-AN-ID")
    check(st == 400 and j["error"] == "bad_parameter", "... of a malformed id: 400 bad_parameter")
    ev0 = events()
    check(delete(API, rec) == 200, "POST /delete-data: 200")
    st, d, _, _ = posted(API, rec["receiptId"])
    ok = st == 200 and d["status"] == "posted" and d["reason"] is None
    check(ok, "GET /receipts/:id/deletion: posted, with its transaction and block (%s)" % (d,))
    if not ok:
        return
    txr = T.rpc("eth_getTransactionReceipt", [d["txHash"]]) or {}
    check(int(txr.get("blockNumber", "0x0"), 16) == d["blockNumber"] and txr.get("status") == "0x1"
          and txr.get("from", "").lower() == enclave.lower(),
          "... the node's receipt of that transaction: mined in that block, from the enclave's address")
    row = T.psql("SELECT o.tx_hash || ' ' || o.block_number || ' ' || a.action || ' ' || convert_from(a.entry, 'UTF8')"
                 " FROM deletion_outbox o JOIN audit_log a ON a.id = o.posted_audit_id"
                 " WHERE o.receipt_id = '%s'" % rec["receiptId"])
    parts = row.split(" ", 3)
    entry = json.loads(parts[3]) if len(parts) == 4 else {}
    check(len(parts) == 4 and parts[2] == "deletion_posted" and entry.get("txHash") == d["txHash"]
          and entry.get("blockNumber") == d["blockNumber"] and entry.get("receiptId") == rec["receiptId"],
          "the outbox row points at its deletion_posted entry, which names the same receipt, transaction and block")
    # The entry in the signed log: its leaf among the log's leaves, whose
    # RFC 6962 root is the signed head's.
    leaf = hashlib.sha256(b"\x00" + parts[3].encode()).hexdigest() if len(parts) == 4 else ""
    aid = T.psql("SELECT posted_audit_id FROM deletion_outbox WHERE receipt_id = '%s'" % rec["receiptId"])
    idx = wait_for(lambda: T.psql("SELECT leaf_index FROM log_leaf_range(0, 1 << 40) WHERE audit_id = %s" % aid),
                   lambda v: v != "")
    head = wait_for(lambda: req(API, "GET", "/log/head")[1], lambda h: h and h["treeSize"] > int(idx or 0))
    hashes = [bytes.fromhex(h[2:]) for h in T.psql("SELECT leaf_hash FROM log_leaf_range(0, %d) ORDER BY leaf_index"
                                                   % head["treeSize"]).split()]
    check(idx != "" and hashes[int(idx)].hex() == leaf and rfc6962_root(hashes).hex() == head["root"],
          "the deletion_posted entry is leaf %s of the log, under the signed tree head's root (size %d)"
          % (idx, head["treeSize"]))
    counts = dict(l.split("|") for l in T.psql("SELECT name, value FROM counters").split())
    check(counts.get("deletion_posted") == "1" and counts.get("data_deleted") == "1",
          "the counters count deletion_posted entries by their kind (%s)" % counts)

    # The receipt id alone, the chain, and the running enclave's attestation.
    nonce = os.urandom(16).hex()
    st, att, _, raw = req(META, "GET", "/attestation?nonce=" + nonce)
    attp = os.path.join(T.tmp, "att.json")
    open(attp, "wb").write(raw)
    check(st == 200 and att["enclaveAddress"] == enclave, "/attestation names the enclave address")
    code, out = toyctl("verify-deletion", rec["receiptId"], "--rpc", chain["CHAIN_RPC_URL"], "--registry",
                       chain["CHAIN_DELETION_REGISTRY"], "--attestation", attp, "--nonce", nonce, "--allow-sim")
    check(code == 0 and "transaction %s" % d["txHash"] in out
          and "reportData is SHA-256(publicKey || enclaveAddress) || SHA-256(nonce)" in out
          and "its enclaveAddress is the record's sender" in out,
          "toyctl verify-deletion RECEIPT_ID --rpc --registry --attestation: passes from the receipt id alone"
          + ("" if code == 0 else "\n" + out[-1500:]))
    bad = dict(att, enclaveAddress="0x" + "11" * 20)
    badp = os.path.join(T.tmp, "att-bad.json")
    json.dump(bad, open(badp, "w"))
    code, out = toyctl("verify-deletion", rec["receiptId"], "--rpc", chain["CHAIN_RPC_URL"], "--registry",
                       chain["CHAIN_DELETION_REGISTRY"], "--attestation", badp, "--nonce", nonce, "--allow-sim")
    check(code == 1 and "FAIL attestation: reportData is SHA-256(publicKey || enclaveAddress)" in out,
          "... and an attestation naming another enclave address fails: the report data binds the address")
    ev1 = events()
    check(ev1["events"] - ev0["events"] == 1, "one record on chain for one deletion")

    # ---- the chain stopped during 50 deletions -----------------------------------------
    recs = [submit(API, "down-%d" % i) for i in range(50)]
    check(all(recs), "50 receipts")
    for i, r in enumerate(recs):
        if i == 10:
            T.chain_cmd("stop")
        if i == 40:
            # Rows waiting and no chain: the chain comes back only once the
            # poster has met it down and said so (on a busy machine the
            # thirty deletions can be quicker than its first try).
            wait_for(lambda: open(os.path.join(T.tmp, "toyapp-cs-a.log")).read(),
                     lambda s: "toyapp: poster: chain:" in s, timeout=30)
            T.chain_cmd("start")
        delete(API, r)
    ids = [r["receiptId"] for r in recs]
    done = all_posted(ids, 90)
    ev2 = events()
    logged = posted_entries(ids)
    check(done is not None and all(s == "posted" for s in done), "the chain stopped during 50 deletions and started "
          "again: all 50 posted (%s)" % (done and {s: done.count(s) for s in set(done)}))
    check(ev2["events"] - ev1["events"] == 50 and ev2["events"] == ev2["distinct"],
          "... exactly 50 records on chain, all distinct (%d -> %d)" % (ev1["events"], ev2["events"]))
    check(logged == "50|50", "... and 50 deletion_posted entries, one per deletion (%s)" % logged)
    log = open(os.path.join(T.tmp, "toyapp-cs-a.log")).read()
    check("toyapp: poster: chain:" in log, "... the poster reported the chain down (its log)")

    # The live feed rebuilds each batch's tree from the log's leaves, in the
    # log's order: a deletion_posted entry, whose id the writer reserved in
    # its lookup, must sit in its batch where its batch head puts it, also
    # in a batch with other entries (submissions going on meanwhile).
    busy = {"on": True}

    def keep_submitting():
        k = 0
        while busy["on"]:
            submit(API, "busy-%d" % k)
            k += 1
    th = threading.Thread(target=keep_submitting)
    th.start()
    # Rounds of 30 deletions.  Whether a deletion_posted entry shares a batch
    # with a submission is timing: on a busy machine the first round may
    # have none, so more rounds come (at most 10) until the database shows one.
    mixed_sql = ("SELECT count(*) FROM (SELECT batch_id FROM audit_log WHERE batch_id IS NOT NULL GROUP BY batch_id"
                 " HAVING bool_or(action = 'deletion_posted') AND bool_or(action <> 'deletion_posted')) x")
    for rnd in range(11):
        if rnd and int(T.psql(mixed_sql)) > 0:
            break
        recs = [submit(API, "mix%d-%d" % (rnd, i)) for i in range(30)]
        for r in recs:
            delete(API, r)
        all_posted([r["receiptId"] for r in recs], 60)
    busy["on"] = False
    th.join()
    total = int(T.psql("SELECT count(*) FROM audit_log"))
    size = wait_for(lambda: req(API, "GET", "/log/head")[1], lambda h: h and h["treeSize"] >= total)["treeSize"]
    frames = ws_frames(API, "?from=0&entries=all", lambda f: "consistency" in f and f["treeHead"]["treeSize"] >= size)
    audits = [f for f in frames if "leafIndex" in f]
    posted_f = [f for f in audits if f["entry"] and f["entry"]["action"] == "deletion_posted"]
    mixed = {f["batchHead"]["batchId"] for f in posted_f} & {f["batchHead"]["batchId"] for f in audits
                                                             if f["entry"] and f["entry"]["action"] != "deletion_posted"}
    ok = all(verify_inclusion(f["batchIndex"], f["batchHead"]["size"], bytes.fromhex(f["leafHash"]),
                              [bytes.fromhex(h) for h in f["batchPath"]], bytes.fromhex(f["batchHead"]["root"]))
             for f in audits)
    check(len(audits) >= size and len(posted_f) >= 81 and mixed and ok and "feed:" not in
          open(os.path.join(T.tmp, "toyapp-cs-a.log")).read(),
          "the live feed serves every entry with a batch path to its signed batch head, the %d deletion_posted"
          " entries too (%d batches mix them with other entries)" % (len(posted_f), len(mixed)))

    # ---- killed -9 while a transaction is in flight -----------------------------------------
    for then in ("evm_mine", "anvil_dropAllTransactions"):
        e0 = events()
        recs = [submit(API, "kill-%s-%d" % (then, i)) for i in range(10)]
        T.rpc("evm_setAutomine", [False])
        for r in recs:
            delete(API, r)
        inflight = wait_for(pool_has_tx, lambda v: v, timeout=20)
        kill9(app)
        T.rpc(then)
        T.rpc("evm_setAutomine", [True])
        app = start(API, META, "cs-a")
        ids = [r["receiptId"] for r in recs]
        done = all_posted(ids, 60)
        e1 = events()
        logged = posted_entries(ids)
        what = "mined" if then == "evm_mine" else "dropped from the pool (sent again)"
        check(inflight and done is not None and all(s == "posted" for s in done) and e1["events"] - e0["events"] == 10
              and e1["events"] == e1["distinct"] and logged == "10|10",
              "toyapp killed -9 with a transaction in flight, which was then %s: after a restart exactly one record"
              " and one deletion_posted entry per deletion (records +%d, entries %s)"
              % (what, e1["events"] - e0["events"], logged))

    # ---- a stop while the poster's commit waits for an absent replica ------------------------
    app.send_signal(signal.SIGTERM)
    app.wait(timeout=30)
    app = start(API, META, "cs-a", {"SYNC_REPLICA": "degrade"})
    T.cluster_cmd("stop-replica")
    wait_for(lambda: req(API, "GET", "/health")[1], lambda h: h and h["replication"] != "sync", timeout=20)
    rec = submit(API, "stop-1")
    st = delete(API, rec) if rec else 0
    stuck = wait_for(lambda: T.psql("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'"
                                    " AND query LIKE 'COMMIT%'"), lambda v: v not in ("", "0", "1"), timeout=20)
    t0 = time.time()
    app.send_signal(signal.SIGTERM)
    try:
        rc = app.wait(timeout=10)
    except subprocess.TimeoutExpired:
        rc = None
        kill9(app)
    took = time.time() - t0
    check(st == 200 and stuck not in (None, "", "0", "1") and rc == 0 and took < 3,
          "SIGTERM while the poster's (and the sequencer's) commits wait for a replica that is away: toyapp exits 0"
          " in %.2f s (waiting commits: %s)" % (took, stuck))
    T.cluster_cmd("start-replica")

    # ---- CHAIN=off --------------------------------------------------------------------
    off = T.start_toyapp(API2, META2, "cs-off")
    st, info, _, _ = req(META2, "GET", "/info")
    check(st == 200 and "chain" in info and info["chain"] is None, "CHAIN=off: /info's chain is null")
    nonce = "off-nonce"
    st, att, _, _ = req(META2, "GET", "/attestation?nonce=" + nonce)
    want = hashlib.sha256(bytes.fromhex(att["publicKey"])).hexdigest() + hashlib.sha256(nonce.encode()).hexdigest()
    check(st == 200 and att["enclaveAddress"] is None and att["reportData"] == want,
          "CHAIN=off: /attestation's enclaveAddress is null and reportData = SHA-256(publicKey) || SHA-256(nonce)")
    txs0 = T.psql("SELECT count(*) FROM chain_txs")
    rec = submit(API2, "off-1")
    delete(API2, rec)
    st, d, _, _ = status(API2, rec["receiptId"])
    # Later writes, sequenced: the instance has been running past them.
    later = submit(API2, "off-2")
    wait_for(lambda: req(API2, "GET", "/receipts/%s/proof" % later["receiptId"])[0], lambda s: s == 200)
    row = T.psql("SELECT coalesce(chain_tx, 0), attempts, block_number IS NULL FROM deletion_outbox"
                 " WHERE receipt_id = '%s'" % rec["receiptId"])
    olog = open(os.path.join(T.tmp, "toyapp-cs-off.log")).read()
    check(st == 200 and d["status"] == "pending" and d["txHash"] is None and d["blockNumber"] is None
          and row == "0|0|t" and T.psql("SELECT count(*) FROM chain_txs") == txs0 and "poster" not in olog,
          "CHAIN=off: no poster: the deletion stays pending, nothing is sent (%s, %s)" % (d.get("status"), row))
    T.psql("UPDATE deletion_outbox SET rejected = true, last_error = 'rejected: a test' WHERE receipt_id = '%s'"
           % rec["receiptId"])
    st, d, _, _ = status(API2, rec["receiptId"])
    check(st == 200 and d["status"] == "rejected" and d["reason"] == "rejected: a test" and d["txHash"] is None,
          "a row the poster set aside: status rejected, with its reason")
    off.send_signal(signal.SIGTERM)
    off.wait(timeout=30)
    app.send_signal(signal.SIGTERM)
    app.wait(timeout=30)


try:
    main()
finally:
    T.stop()
sys.exit(summary())

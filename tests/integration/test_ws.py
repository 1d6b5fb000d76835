#!/usr/bin/env python3
"""test_ws.py — GET /ws, the live feed, against real servers on 127.0.0.1:
a Postgres primary and replica, toy-mockapi and two toyapp instances (A
sequences the log; B does not, and has room for two clients only).  The
clients are a real WebSocket client (the pinned `ws` package, through
ws_client.mjs) and, for what no polite client does, raw sockets.

Checks:
  - the handshake: 426 without an upgrade or with another version, 400 for
    a bad key or parameter, 403 for a foreign Origin (and 101 for the page's
    own or an allowed one), 503 past WS_MAX_CLIENTS, the accept key;
  - the frames: every submitted entry arrives, in log order, within a
    second of its answer, equal to the receipt's entry and batch head, its
    leaf hash and batch path right; every tree head signed, consistent with
    the one before, and equal to the root the entries give; every signature
    (Ed25519, checked with Node's crypto);
  - resuming with ?from=N gives exactly the entries since, with no gap and
    no repeat; from=0 the whole log; a size past the log closes with 1008;
  - entries=none and entries=latest carry what they say;
  - a client that sends a message is closed with 1003, a broken frame with
    1002 or 1007; a ping gets its pong, a close its close;
  - a client that stops reading is closed with 1013 and a resume point,
    while another client gets every entry and every submission succeeds;
  - a client of B sees what A writes; when B stops, its client is told
    (1001) where to resume;
  - GET /dashboard and its assets are the repository's files, with a CSP.
"""
import base64, hashlib, json, os, queue, select, signal, socket, subprocess, sys, threading, time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from itlib import (ROOT, Topology, check, req, summary, verify_consistency, verify_inclusion,  # noqa: E402
                   ws_frame, ws_split)

HERE = os.path.dirname(os.path.abspath(__file__))
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def canonical(v):
    return json.dumps(v, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def unsigned(rec):
    return canonical(dict((k, v) for k, v in rec.items() if k != "signature"))


def leaf_of(entry):
    return hashlib.sha256(b"\x00" + canonical(entry)).digest()


def node(l, r):
    return hashlib.sha256(b"\x01" + l + r).digest()


class Frontier:
    """The log's compact range (as the start frame gives it)."""

    def __init__(self, size, hashes):
        self.size, self.h = size, list(hashes)

    def append(self, leaf):
        h, n = leaf, self.size
        while n & 1:
            h = node(self.h.pop(), h)
            n >>= 1
        self.h.append(h)
        self.size += 1

    def root(self):
        if not self.h:
            return hashlib.sha256(b"").digest()
        r = self.h[-1]
        for x in reversed(self.h[:-1]):
            r = node(x, r)
        return r


class Signatures:
    """Ed25519 checks, all at once through ed25519_verify.mjs."""

    def __init__(self):
        self.items = []

    def add(self, rec, what):
        self.items.append((what, {"pub": rec["publicKey"], "sig": rec["signature"], "msg": unsigned(rec).hex()}))

    def bad(self):
        if not self.items:
            return []
        p = subprocess.run(["node", os.path.join(HERE, "ed25519_verify.mjs")], input="".join(
            json.dumps(i) + "\n" for _, i in self.items), capture_output=True, text=True, timeout=60)
        got = p.stdout.split()
        return [w for (w, _), ok in zip(self.items, got + ["0"] * len(self.items)) if ok != "1"]


class Client:
    """A real WebSocket client: ws_client.mjs, its events on a queue."""

    def __init__(self, port, query="", origin=None):
        args = ["node", os.path.join(HERE, "ws_client.mjs"), "ws://127.0.0.1:%d/ws%s" % (port, query)]
        if origin:
            args.append(origin)
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.q = queue.Queue()
        self.events = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stdout:
            ev = json.loads(line)
            if "msg" in ev:
                ev["frame"] = json.loads(ev["msg"])
            self.q.put(ev)
        self.q.put(None)

    def until(self, cond, timeout=10):
        """Events until cond(event) holds (returns that event) or timeout (None)."""
        deadline = time.time() + timeout
        while True:
            try:
                ev = self.q.get(timeout=max(0.01, deadline - time.time()))
            except queue.Empty:
                return None
            if ev is None:
                return None
            self.events.append(ev)
            if cond(ev):
                return ev
            if time.time() > deadline:
                return None

    def frames(self):
        return [e["frame"] for e in self.events if "frame" in e]

    def send(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()

    def stop(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()


def kind(f):
    return "start" if "frontier" in f else "audit" if "leafIndex" in f else "tree_head" if "consistency" in f else "?"


# ---- raw sockets --------------------------------------------------------------------

def handshake(port, query="", headers=None, key=None):
    """Sends a handshake; returns (status, headers, socket, bytes after the head)."""
    key = key or base64.b64encode(os.urandom(16)).decode()
    h = {"Host": "127.0.0.1:%d" % port, "Upgrade": "websocket", "Connection": "Upgrade",
         "Sec-WebSocket-Key": key, "Sec-WebSocket-Version": "13"}
    h.update(headers or {})
    text = "GET /ws%s HTTP/1.1\r\n" % query + "".join("%s: %s\r\n" % kv for kv in h.items() if kv[1] is not None)
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall((text + "\r\n").encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        c = s.recv(65536)
        if not c:
            break
        buf += c
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1]) if lines and " " in lines[0] else 0
    hdrs = dict((l.split(":", 1)[0].lower(), l.split(":", 1)[1].strip()) for l in lines[1:] if ":" in l)
    return status, hdrs, s, rest, key


def read_frames(s, buf=b"", timeout=5, stop_at_close=True):
    """Server frames from s: [(opcode, payload)], up to a close frame or EOF."""
    out, deadline = [], time.time() + timeout
    s.setblocking(False)
    while time.time() < deadline:
        for got in iter(lambda: ws_split(buf), None):
            first, payload, buf = got
            out.append((first & 0x0f, payload))
            if stop_at_close and out[-1][0] == 8:
                return out, True
        r, _, _ = select.select([s], [], [], 0.1)
        if r:
            try:
                c = s.recv(1 << 20)
            except (ConnectionResetError, BlockingIOError):
                c = b""
            if not c:
                return out, True
            buf += c
    return out, False


def close_of(frames):
    for op, p in frames:
        if op == 8:
            return int.from_bytes(p[:2], "big") if len(p) >= 2 else 1005, p[2:].decode("utf-8", "replace")
    return None, None


# ---- the test -------------------------------------------------------------------------

def main():
    t = Topology(nports=8)
    try:
        t.start_cluster()
        if not t.start_mockapi():
            raise SystemExit("toy-mockapi did not start")
        A, B = t.ports[3], t.ports[5]
        t.start_toyapp(A, t.ports[4], "cvm-a", {"WS_ALLOWED_ORIGINS": "http://allowed.example, https://b.example",
                                                "WS_QUEUE_KB": "64"})
        pb = t.start_toyapp(B, t.ports[6], "cvm-b", {"SEQUENCER": "0", "WS_MAX_CLIENTS": "2"})
        run(t, A, B)
        stopping(B, pb)
    finally:
        t.stop()
    return summary()


def stopping(port, proc):
    """A server that stops tells its clients so (1001), with where to resume."""
    c = Client(port)
    start = c.until(lambda e: "frame" in e)
    proc.send_signal(signal.SIGTERM)
    ev = c.until(lambda e: "close" in e)
    size = start and start["frame"]["treeSize"]
    check(ev and ev["close"] == 1001 and ("?from=%s" % size) in ev["reason"],
          "SIGTERM: a client is closed with 1001 and where to resume (%r)" % ((ev["close"], ev["reason"]) if ev else None,))
    check(proc.wait(timeout=15) == 0, "and the server stops cleanly (exit 0)")
    c.stop()


def submit(port, n, tag):
    """n submissions at once (8 at a time): their receipts, with the time each answer came."""
    def one(i):
        body = json.dumps({"userId": "%s-%d@example.com" % (tag, i),
                           "sensitivePayload": "%s %d: a football match, age: %d" % (tag, i, 18 + i % 50)})
        st, j, _, _ = req(port, "POST", "/submit-data", body)
        return st, j, time.time()
    with ThreadPoolExecutor(8) as ex:
        return list(ex.map(one, range(n)))


def run(t, A, B):
    sigs = Signatures()

    # ---- the handshake ----------------------------------------------------------------
    st, j, h, _ = req(A, "GET", "/ws")
    check(st == 426 and j["error"] == "upgrade_required" and h.get("upgrade") == "websocket",
          "a plain GET /ws is 426 upgrade_required, with Upgrade: websocket (%d %s)" % (st, j))
    st, h, s, _, _ = handshake(A, headers={"Sec-WebSocket-Version": "8"})
    s.close()
    check(st == 426 and h.get("sec-websocket-version") == "13", "version 8: 426 with Sec-WebSocket-Version: 13 (%d)" % st)
    st, h, s, rest, _ = handshake(A, key="not-a-key")
    s.close()
    check(st == 400 and b"bad_websocket_key" in rest, "a malformed key: 400 bad_websocket_key (%d)" % st)
    for q, what in (("?entries=some", "an unknown entries value"), ("?from=-1", "a negative from"),
                    ("?from=abc", "a from that is no number")):
        st, h, s, rest, _ = handshake(A, q)
        s.close()
        check(st == 400, "%s: 400 (%d %s)" % (what, st, rest[:80]))
    st, h, s, rest, _ = handshake(A, headers={"Origin": "http://evil.example"})
    s.close()
    check(st == 403 and b"origin_not_allowed" in rest, "a foreign Origin: 403 origin_not_allowed (%d)" % st)
    for origin in ("http://127.0.0.1:%d" % A, "http://allowed.example", "https://b.example"):
        st, h, s, _, key = handshake(A, headers={"Origin": origin})
        s.close()
        want = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        check(st == 101 and h.get("sec-websocket-accept") == want and h.get("upgrade", "").lower() == "websocket",
              "Origin %s: 101 with the right Sec-WebSocket-Accept (%d)" % (origin, st))
    st, h, s1, _, _ = handshake(B)
    st2, h, s2, _, _ = handshake(B)
    st3, h3, s3, rest3, _ = handshake(B)
    check(st == 101 and st2 == 101 and st3 == 503 and b"too_many_clients" in rest3 and h3.get("retry-after"),
          "WS_MAX_CLIENTS=2: two clients open, the third is 503 too_many_clients with Retry-After (%d %d %d)"
          % (st, st2, st3))
    for s in (s1, s2, s3):
        s.close()
    time.sleep(0.3)
    st, h, s, _, _ = handshake(B)
    s.close()
    check(st == 101, "a closed client's place is free again (%d)" % st)

    # ---- the frames -------------------------------------------------------------------------
    submit(A, 5, "warm")          # a log that is not empty
    time.sleep(0.5)
    live = Client(A)
    first = live.until(lambda e: "frame" in e)
    start = first and first["frame"]
    check(start is not None and kind(start) == "start", "the first frame is the start frame")
    st, head, _, _ = req(A, "GET", "/log/head")
    fr = Frontier(start["treeSize"], [bytes.fromhex(x) for x in start["frontier"]])
    check(start["treeSize"] == head["treeSize"] and start["treeHead"] == head and fr.root().hex() == head["root"],
          "it starts at the latest signed head (%d), and its frontier gives that head's root" % start["treeSize"])
    sigs.add(start["treeHead"], "the start frame's tree head")
    other = Client(B)             # B does not sequence: it hears A's sequencer
    other.until(lambda e: "frame" in e)

    receipts = submit(A, 30, "live")
    check(all(st == 200 for st, _, _ in receipts), "30 concurrent submissions answered 200")
    want = dict((j["receiptId"], (j, at)) for _, j, at in receipts)
    got = {}

    def seen(ev):
        f = ev.get("frame")
        if f and kind(f) == "audit" and f["entry"] and f["entry"].get("receiptId") in want:
            got[f["entry"]["receiptId"]] = (f, ev["t"] / 1000.0)
        return len(got) == len(want)
    live.until(seen, timeout=10)
    check(len(got) == len(want), "every submitted entry arrived on the feed (%d of %d)" % (len(got), len(want)))
    delays = sorted(got[r][1] - want[r][1] for r in got)
    check(delays and delays[-1] < 1.0, "each within a second of its answer (max %.0f ms, median %.0f ms)"
          % (1000 * delays[-1], 1000 * delays[len(delays) // 2]) if delays else "no delays")
    good = 0
    for r, (f, _) in got.items():
        j = want[r][0]
        leaf = leaf_of(f["entry"])
        ok = (f["entry"] == j["auditEntry"] and f["batchHead"] == j["batchHead"] and f["leafHash"] == leaf.hex()
              and f["batchIndex"] == j["batchIndex"] and f["batchPath"] == j["inclusionPath"]
              and verify_inclusion(f["batchIndex"], f["batchHead"]["size"], leaf,
                                   [bytes.fromhex(x) for x in f["batchPath"]], bytes.fromhex(f["batchHead"]["root"])))
        good += ok
    check(good == len(got), "each audit frame carries its receipt's entry and batch head, its leaf hash and "
          "a batch path to the signed root (%d of %d)" % (good, len(got)))
    # The whole stream: leaves in order, each head consistent and equal to the replayed root.
    last = max(f["leafIndex"] for f, _ in got.values())
    live.until(lambda e: "frame" in e and kind(e["frame"]) == "tree_head" and e["frame"]["treeHead"]["treeSize"] > last)
    frames = live.frames()
    order_ok = heads_ok = True
    prev_size, prev_root, nheads = start["treeSize"], bytes.fromhex(head["root"]), 0
    expect, batches = start["treeSize"], set()
    for f in frames[1:]:
        if kind(f) == "audit":
            order_ok &= f["leafIndex"] == expect
            expect += 1
            fr.append(bytes.fromhex(f["leafHash"]))
            if f["batchHead"]["batchId"] not in batches:
                batches.add(f["batchHead"]["batchId"])
                sigs.add(f["batchHead"], "batch %d" % f["batchHead"]["batchId"])
        elif kind(f) == "tree_head":
            th = f["treeHead"]
            root = bytes.fromhex(th["root"])
            ok = (f["from"] == prev_size and th["treeSize"] == expect and fr.root() == root
                  and verify_consistency(prev_size, th["treeSize"], prev_root, root,
                                         [bytes.fromhex(x) for x in f["consistency"]]))
            heads_ok &= ok
            sigs.add(th, "the tree head of size %d" % th["treeSize"])
            prev_size, prev_root = th["treeSize"], root
            nheads += 1
    check(order_ok, "audit frames come in leaf order, with no gap")
    check(heads_ok and nheads >= 1, "each of the %d tree heads: from the previous size, consistent with it (RFC 9162), "
          "and its root is what the entries since give" % nheads)
    leaf_ok = 0
    for r, (f, _) in list(got.items())[:5]:
        st, p, _, _ = req(A, "GET", "/receipts/%s/proof" % r)
        leaf_ok += st == 200 and p["leafIndex"] == f["leafIndex"]
    check(leaf_ok == 5, "an audit frame's leafIndex is the receipt's place in the log (GET /receipts/:id/proof)")
    seen_b = set()
    other.until(lambda e: ("frame" in e and kind(e["frame"]) == "audit" and e["frame"]["entry"]
                           and seen_b.add(e["frame"]["entry"].get("receiptId")) is None and want.keys() <= seen_b),
                timeout=5)
    check(want.keys() <= seen_b, "a client of instance B (which does not sequence) saw every entry written "
          "through A (%d of %d)" % (len(want.keys() & seen_b), len(want)))
    other.stop()

    # ---- resuming -----------------------------------------------------------------------------
    resume_at = prev_size
    live.stop()

    # ---- no session, no reading -----------------------------------------------------------------
    # A has no session now, B one: a round makes B's follower read it, and
    # A's read nothing (its feed backend's state_change does not move).  A
    # try where A had not yet seen its last client go is tried again.
    watch_b = Client(B)
    watch_b.until(lambda e: "frame" in e)

    def feed_backends():
        return dict(line.split("|") for line in t.psql(
            "SELECT pid, state_change FROM pg_stat_activity WHERE application_name = 'toyapp-feed'").splitlines())
    tries, moved = 0, None
    while tries < 20 and moved != 1:
        tries += 1
        before = feed_backends()
        (_, j, _), = submit(A, 1, "idle%d" % tries)
        rid = j["receiptId"]
        watch_b.until(lambda e: "frame" in e and kind(e["frame"]) == "audit" and e["frame"]["entry"]
                      and e["frame"]["entry"].get("receiptId") == rid, timeout=10)
        after = feed_backends()
        moved = sum(after.get(pid) != at for pid, at in before.items()) if len(before) == 2 else None
    check(moved == 1, "with no session attached, A's follower reads nothing while B's reads each round "
          "(feed backends that ran a query: %s, try %d)" % (moved, tries))
    watch_b.stop()
    more = submit(A, 12, "resume")
    more_ids = set(j["receiptId"] for _, j, _ in more)
    back = Client(A, "?from=%d" % resume_at)
    ids = set()

    def resumed(ev):
        f = ev.get("frame")
        if f and kind(f) == "audit" and f["entry"]:
            ids.add(f["entry"].get("receiptId"))
        return more_ids <= ids
    back.until(resumed, timeout=10)
    top = max([f["leafIndex"] for f in back.frames() if kind(f) == "audit"] + [0])
    back.until(lambda e: "frame" in e and kind(e["frame"]) == "tree_head" and e["frame"]["treeHead"]["treeSize"] > top)
    bf = back.frames()
    audits = [f for f in bf if kind(f) == "audit"]
    heads = [f for f in bf if kind(f) == "tree_head"]
    check(bf and kind(bf[0]) == "start" and bf[0]["treeSize"] == resume_at
          and bf[0]["treeHead"]["root"] == prev_root.hex(),
          "?from=%d starts at exactly the head the client had" % resume_at)
    check(more_ids <= ids, "and brings every entry written while it was away (%d of %d)"
          % (len(more_ids & ids), len(more_ids)))
    check([f["leafIndex"] for f in audits] == list(range(resume_at, resume_at + len(audits))),
          "with no gap and no repeat (leaves %d..%d)" % (resume_at, resume_at + len(audits) - 1))
    check(heads and heads[0]["from"] == resume_at, "its first tree head is proved consistent from %d" % resume_at)
    back.stop()

    st, head, _, _ = req(A, "GET", "/log/head")
    full = Client(A, "?from=0")
    full.until(lambda e: "frame" in e and kind(e["frame"]) == "tree_head"
               and e["frame"]["treeHead"]["treeSize"] >= head["treeSize"], timeout=15)
    ff = full.frames()
    fr0, ok = Frontier(0, []), True
    for f in ff[1:]:
        if kind(f) == "audit":
            ok &= f["leafIndex"] == fr0.size
            fr0.append(bytes.fromhex(f["leafHash"]))
        elif kind(f) == "tree_head":
            ok &= fr0.root().hex() == f["treeHead"]["root"]
    check(ff and ff[0]["treeSize"] == 0 and ff[0]["treeHead"] is None and fr0.size >= head["treeSize"] and ok,
          "?from=0 replays the whole log (%d entries) from the empty tree, every root recomputed" % fr0.size)
    full.stop()
    past = Client(A, "?from=%d" % (head["treeSize"] + 1000))
    ev = past.until(lambda e: "close" in e)
    check(ev and ev["close"] == 1008 and "beyond the log" in ev["reason"],
          "a from past the log's end is closed 1008 with the reason (%r)" % ((ev["close"], ev["reason"]) if ev else None,))
    past.stop()
    mid = Client(A, "?from=%d" % (resume_at + 1))
    ev = mid.until(lambda e: "frame" in e)
    check(ev and ev["frame"]["treeSize"] <= resume_at + 1 and ev["frame"]["treeSize"] >= resume_at,
          "a from between two heads starts at the largest head below it (%s)" % (ev and ev["frame"]["treeSize"]))
    mid.stop()

    # ---- what the modes carry -----------------------------------------------------------------
    none, latest = Client(A, "?entries=none"), Client(A, "?entries=latest")
    none.until(lambda e: "frame" in e)
    latest.until(lambda e: "frame" in e)
    burst = submit(A, 40, "modes")
    st, h2, _, _ = req(A, "GET", "/log/head")
    time.sleep(0.3)
    st, h2, _, _ = req(A, "GET", "/log/head")
    for c in (none, latest):
        c.until(lambda e: "frame" in e and kind(e["frame"]) == "tree_head"
                and e["frame"]["treeHead"]["treeSize"] >= h2["treeSize"], timeout=10)
    nf = none.frames()
    check(nf and all(kind(f) in ("start", "tree_head") for f in nf) and len(nf) >= 2,
          "entries=none: the start frame and tree heads only (%d frames)" % len(nf))
    lf = latest.frames()
    rounds_ok, prev, batch = True, lf[0]["treeSize"], []
    for f in lf[1:]:
        if kind(f) == "audit":
            batch.append(f["leafIndex"])
        elif kind(f) == "tree_head":
            size = f["treeHead"]["treeSize"]
            rounds_ok &= len(batch) <= 8 and batch == list(range(size - len(batch), size)) and f["from"] == prev
            prev, batch = size, []
    check(rounds_ok and any(kind(f) == "audit" for f in lf),
          "entries=latest: at most 8 entries of a round, its last ones, and every tree head")
    none.stop()
    latest.stop()

    # ---- what a client may send --------------------------------------------------------------
    rude = Client(A)
    rude.until(lambda e: "frame" in e)
    rude.send("send 0 hello")
    ev = rude.until(lambda e: "close" in e)
    check(ev and ev["close"] == 1003, "a client that sends a message is closed with 1003 (%r)"
          % ((ev["close"], ev["reason"]) if ev else None,))
    rude.stop()
    cases = [
        ("an unmasked frame", ws_frame(1, b"hi", mask=False), 1002, "mask"),
        ("reserved bits", ws_frame(9, b"", rsv=0x40), 1002, "reserved"),
        ("an unknown opcode", ws_frame(3, b""), 1002, "opcode"),
        ("bytes that are no frame", b"\xff" * 64, 1002, ""),
        ("a close reason that is not UTF-8", ws_frame(8, b"\x03\xe8\xc3\x28"), 1007, "UTF-8"),
        ("a ping longer than 125 bytes", ws_frame(9, b"x" * 200), 1002, "control"),
        ("a binary message", ws_frame(2, b"\x00\x01"), 1003, "no messages"),
    ]
    for what, data, code, word in cases:
        st, h, s, rest, _ = handshake(A, "?entries=none")
        s.sendall(data)
        frames, closed = read_frames(s, rest)
        got_code, reason = close_of(frames)
        check(st == 101 and got_code == code and word.lower() in reason.lower(),
              "%s: closed with %d (%s %r)" % (what, code, got_code, reason))
        s.close()
    st, h, s, rest, _ = handshake(A, "?entries=none")
    s.sendall(ws_frame(9, b"are you there"))
    frames, _ = read_frames(s, rest, timeout=2, stop_at_close=False)
    check((10, b"are you there") in frames, "a ping gets its pong, with its payload")
    s.sendall(ws_frame(8, b"\x03\xe8bye"))
    frames, closed = read_frames(s, b"", timeout=5)
    check(close_of(frames)[0] == 1000 and closed, "a close gets its close (1000), then the connection ends")
    s.close()

    # ---- a client that cannot keep up -----------------------------------------------------------
    healthy = Client(A)
    healthy.until(lambda e: "frame" in e)
    st, h, slow, rest, _ = handshake(A)
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    flood = submit(A, 900, "flood")
    flood_ids = set(j["receiptId"] for st, j, _ in flood if st == 200)
    check(len(flood_ids) == 900, "900 submissions while a client stops reading: all answered 200 (%d)" % len(flood_ids))
    hs = set()
    healthy.until(lambda e: ("frame" in e and kind(e["frame"]) == "audit" and e["frame"]["entry"]
                             and hs.add(e["frame"]["entry"].get("receiptId")) is None and flood_ids <= hs), timeout=20)
    check(flood_ids <= hs, "another client got every one of them (%d of %d)" % (len(flood_ids & hs), len(flood_ids)))
    healthy.stop()
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    frames, closed = read_frames(slow, rest, timeout=15)
    code, reason = close_of(frames)
    check(code == 1013 and "too slow" in reason and "from=" in reason,
          "the client that stopped reading was closed with 1013 and where to resume (%s %r)" % (code, reason))
    slow.close()
    if code == 1013:
        at = int(reason.split("from=")[1].split()[0].strip(";,."))
        texts = [json.loads(p) for op, p in frames if op == 1]
        last_head = max([f["treeHead"]["treeSize"] for f in texts if kind(f) == "tree_head"] +
                        [f["treeSize"] for f in texts if kind(f) == "start"])
        check(at == last_head, "the resume point is the last tree head it was sent (%d, %d)" % (at, last_head))

    # ---- the signatures --------------------------------------------------------------------------
    bad = sigs.bad()
    check(not bad and len(sigs.items) >= 3, "every signature on the feed verifies (Ed25519, %d checked)%s"
          % (len(sigs.items), ": bad " + ", ".join(bad[:3]) if bad else ""))

    # ---- the dashboard's files ----------------------------------------------------------------------
    for path, file, ctype in (("/dashboard", "index.html", "text/html"), ("/dashboard/app.js", "app.js", "text/javascript"),
                              ("/dashboard/style.css", "style.css", "text/css")):
        st, _, h, data = req(A, "GET", path)
        disk = open(os.path.join(ROOT, "dashboard", file), "rb").read()
        csp = h.get("content-security-policy", "")
        check(st == 200 and data == disk and h.get("content-type", "").startswith(ctype)
              and "default-src 'none'" in csp and "connect-src 'self'" in csp and h.get("x-content-type-options") == "nosniff",
              "GET %s: the repository's %s (%d bytes), %s, with a strict CSP" % (path, file, len(disk), ctype))
    st, _, _, _ = req(A, "GET", "/dashboard/other.js")
    check(st == 404, "a file spec/ does not name is 404 (%d)" % st)


if __name__ == "__main__":
    sys.exit(main())

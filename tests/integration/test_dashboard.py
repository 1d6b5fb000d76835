#!/usr/bin/env python3
"""test_dashboard.py — the dashboard in a real browser: Debian's Chromium,
driven by playwright-core (dashboard_browser.mjs), against real servers on
127.0.0.1 (Postgres primary and replica, toy-mockapi, toyapp).

The page is loaded twice: straight from toyapp, and through a test-only
proxy that, when the test arms it, changes two frames of the feed on their
way: the next data_received entry (its payload commitment) and the tree
head after it (its signature).

Checks: the page loads with no console error and fetches nothing but
toyapp; an entry submitted by the test appears within a second, marked
verified; with the keyboard the feed switches to every entry, each checked
in its place in the log; the report panel shows GET /report, and its CID is
the one `toyctl cid` (rt_cid_raw_sha256) gives the report's bytes; the page
is semantic HTML and fits a phone's width; through the proxy, the tampered
entry and tree head are marked failed, plainly, and an untampered entry
after them still verifies.  Screenshots go to $BUILD/dashboard/.
"""
import json, os, shutil, socket, subprocess, sys, threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from itlib import BUILD, TOYCTL, Topology, check, req, summary, ws_frame, ws_split  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


# ---- the tampering proxy ----------------------------------------------------------

def shut(*socks):
    for s in socks:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def relay(src, dst):
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            dst.sendall(b)
    except OSError:
        pass
    finally:
        shut(src, dst)


def tamper_stream(src, dst, log, armed):
    """Server-to-client bytes of a WebSocket: after the HTTP head, frame by
    frame (unmasked).  Once armed, it changes the next data_received entry
    and the tree head after it; everything else passes as it came."""
    buf, head_done, step = b"", False, 0
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            buf += b
            if not head_done:
                if b"\r\n\r\n" not in buf:
                    continue
                head, _, buf = buf.partition(b"\r\n\r\n")
                dst.sendall(head + b"\r\n\r\n")
                head_done = True
            out = b""
            for got in iter(lambda: ws_split(buf), None):
                first, payload, buf = got
                frame = ws_frame(first & 0x0f, payload, mask=False, fin=first & 0x80)
                if first & 0x0f == 1:
                    f = json.loads(payload)
                    changed = None
                    if armed.is_set() and step == 0 and "leafIndex" in f and f.get("entry") \
                            and "payloadCommitment" in f["entry"]:
                        pc = f["entry"]["payloadCommitment"]
                        f["entry"]["payloadCommitment"] = pc[:-1] + ("0" if pc[-1] != "0" else "1")
                        changed = "entry %d's payloadCommitment" % f["leafIndex"]
                        step = 1
                    elif step == 1 and "consistency" in f:
                        sig = f["treeHead"]["signature"]
                        f["treeHead"]["signature"] = ("0" if sig[0] != "0" else "1") + sig[1:]
                        changed = "the signature of tree head %d" % f["treeHead"]["treeSize"]
                        step = 2
                        armed.clear()
                    if changed:
                        log.append(changed)
                        frame = ws_frame(1, json.dumps(f, separators=(",", ":")).encode(), mask=False)
                out += frame
            if out:
                dst.sendall(out)
    except OSError:
        pass
    finally:
        shut(src, dst)


class Proxy:
    """Forwards 127.0.0.1:port to toyapp; tampers the feed of GET /ws once
    armed (GET /__tamper, answered by the proxy itself)."""

    def __init__(self, port, upstream):
        self.port, self.upstream, self.tampered = port, upstream, []
        self.armed = threading.Event()
        self.ls = socket.create_server(("127.0.0.1", port))
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                c, _ = self.ls.accept()
            except OSError:
                return
            threading.Thread(target=self.one, args=(c,), daemon=True).start()

    def one(self, c):
        first = b""
        while b"\r\n" not in first:
            b = c.recv(4096)
            if not b:
                c.close()
                return
            first += b
        if first.startswith(b"GET /__tamper "):
            self.armed.set()
            c.sendall(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
            c.close()
            return
        u = socket.create_connection(("127.0.0.1", self.upstream))
        u.sendall(first)
        threading.Thread(target=relay, args=(c, u), daemon=True).start()
        if first.startswith(b"GET /ws"):
            tamper_stream(u, c, self.tampered, self.armed)
        else:
            relay(u, c)

    def close(self):
        self.ls.close()


# ---- the test ----------------------------------------------------------------------

def main():
    t = Topology(nports=8)
    proxy = None
    out = os.path.join(BUILD, "dashboard")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    try:
        t.start_cluster()
        if not t.start_mockapi():
            raise SystemExit("toy-mockapi did not start")
        api = t.ports[3]
        t.start_toyapp(api, t.ports[4], "cvm-dash")
        # Something in the log and in the report: signups, submissions, safe
        # calls, and a deletion (whose submission's entry is then purged).
        topics = ["a football game", "a chess lecture", "a cooking show", "a robotics kit review"]
        receipts = []
        for i in range(12):
            req(api, "POST", "/signup", json.dumps({"userId": "dash%d@example.com" % i}))
            st, j, _, _ = req(api, "POST", "/submit-data", json.dumps({
                "userId": "dash%d@example.com" % i, "sensitivePayload": "%s, age: %d" % (topics[i % 4], 16 + 5 * i)}))
            receipts.append(j)
            if i % 5 == 0:
                req(api, "GET", "/watch-history")
        gone = receipts[-1]   # the last of its round: entries=latest shows it
        st, _, _, _ = req(api, "POST", "/delete-data/" + gone["receiptId"],
                          json.dumps({"deletionToken": gone["deletionToken"]}))
        check(st == 200, "a deletion, so that the page shows a purged entry (%d)" % st)
        proxy = Proxy(t.ports[5], api)
        p = subprocess.run(["node", os.path.join(HERE, "dashboard_browser.mjs"), "http://127.0.0.1:%d" % api,
                            "http://127.0.0.1:%d" % proxy.port, out], capture_output=True, text=True, timeout=180)
        results = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
        check(any(r.get("done") for r in results), "the browser run finished (%s)" % p.stderr[-300:])
        for r in results:
            if "check" in r:
                check(r["ok"], r["check"] + ("" if r["ok"] else ": %s" % json.dumps(r.get("detail"))[:600]))
        check(len(proxy.tampered) == 2, "the proxy changed two frames: %s" % proxy.tampered)
        cid_file, rep = os.path.join(out, "report.cid"), os.path.join(out, "report.json")
        if os.path.exists(cid_file):
            got = open(cid_file).read().strip()
            c = subprocess.run([TOYCTL, "cid", rep], capture_output=True, text=True)
            check(c.returncode == 0 and c.stdout.split()[0] == got,
                  "the page's report CID is toyctl cid's of the report's bytes (%s)" % got)
        for name in ("dashboard.png", "dashboard-phone.png", "dashboard-tampered.png"):
            f = os.path.join(out, name)
            ok = os.path.exists(f) and open(f, "rb").read(8) == b"\x89PNG\r\n\x1a\n" and os.path.getsize(f) > 10000
            check(ok, "a screenshot: %s" % os.path.relpath(f))
    finally:
        if proxy:
            proxy.close()
        t.stop()
    return summary()


if __name__ == "__main__":
    sys.exit(main())

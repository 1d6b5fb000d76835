#!/usr/bin/env python3
"""Integration tests of operations: liveness and readiness when the primary
refuses writes, against a real Postgres primary and replica whose data lives
on a small tmpfs that the test fills, and toyapp, all on 127.0.0.1.

  - /ready is 200 while the primary takes writes; within 2 s of the primary
    becoming read-only, or of its disk filling up, it is 503 with the
    reason, and /health (still 200: the process is alive) says which;
    within 2 s of recovery /ready is 200 again and writes work;
  - a write refused meanwhile answers 503 and changes nothing.

Needs root (it mounts a tmpfs).  Ends with "N passed, M failed".
Env: BUILD (default build)."""
import json, os, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from itlib import Topology, check, req, summary, wait_for  # noqa: E402

T = Topology(nports=5)
PG_P, PG_R, MOCK, API, META = T.ports
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

    # ---- disk full ----------------------------------------------------------------
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
    codes = [req(API, "POST", "/submit-data",
                 json.dumps({"userId": "full-%d" % i, "sensitivePayload": "x" * 2000}))[0] for i in range(5)]
    check(all(c in (200, 503) for c in codes), "full disk: writes answer 200 or 503, nothing else (%s)" % codes)
    acked = codes.count(200)
    after = rows()
    check(int(after.split(",")[0]) == int(before.split(",")[0]) + acked,
          "full disk: exactly the acknowledged writes are stored (%d acked, rows %s -> %s)" % (acked, before, after))
    os.unlink(filler)
    ok, dt, r = until_ready(200, "accepted")
    check(ok and dt < 2, "space freed: /ready 200 again in %.2fs" % dt)
    st, j, _, _ = req(API, "POST", "/signup", json.dumps({"userId": "after-full"}))
    check(st == 201, "space freed: writes work without a restart")

    # ---- primary unreachable ----------------------------------------------------------
    T.cluster_cmd("stop-primary")
    ok, dt, r = until_ready(503, "unreachable")
    check(ok and dt < 2, "primary stopped: /ready 503, writes unreachable, in %.2fs" % dt)
    st, j, _, _ = req(API, "GET", "/health")
    check(st == 200 and j["primary"] == "down" and j["status"] == "degraded",
          "primary stopped: /health 200, primary down, degraded (reads from the replica)")
    T.cluster_cmd("start-primary")
    ok, dt, r = until_ready(200, "accepted", bound=10)
    check(ok, "primary back: /ready 200 again (%.2fs)" % dt)
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

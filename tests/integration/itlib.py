"""itlib — what the Python integration tests share: ports, requests, the
RFC 9162 proof checks, WebSocket frames, and the local topology they start (a Postgres
primary and streaming replica with postgres/cluster.sh, toy-mockapi,
toyapp instances), all on 127.0.0.1.  Standard library only."""
import hashlib, http.client, json, os, shutil, socket, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
TOYCTL = os.environ.get("TOYCTL", os.path.join(BUILD, "toyctl"))

_passed = _failed = 0


def check(cond, what):
    """Prints "ok" or "FAIL" and the check's name; returns cond."""
    global _passed, _failed
    if cond:
        _passed += 1
        print("ok   ", what)
    else:
        _failed += 1
        print("FAIL ", what)
    return cond


def summary():
    """Prints the closing "N passed, M failed" line; the exit status."""
    print("%d passed, %d failed" % (_passed, _failed))
    return 1 if _failed else 0


def free_block(n):
    """A run of n consecutive ports on 127.0.0.1 that nothing listens on."""
    for attempt in range(200):
        # Below the ephemeral range (32768+), where client sockets take ports.
        base = 20000 + (os.getpid() * 7 + attempt * 37) % 12000
        socks = []
        try:
            for i in range(n):
                s = socket.socket()
                s.bind(("127.0.0.1", base + i))
                socks.append(s)
            return base
        except OSError:
            pass
        finally:
            for s in socks:
                s.close()
    raise SystemExit("no free ports")


def req(port, method, path, body=None, headers=None, timeout=10):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    h = dict(headers or {})
    if body is not None and "Content-Type" not in h:
        h["Content-Type"] = "application/json"
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    c.close()
    try:
        j = json.loads(data)
    except ValueError:
        j = None
    return r.status, j, dict((k.lower(), v) for k, v in r.getheaders()), data


def raw(port, data, read_timeout=5, trickle=None):
    """Sends raw bytes, then optionally trickles more one a second, and
    returns whatever the server answered (b"" if it just closed)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=read_timeout)
    out = b""
    try:
        s.sendall(data)
        for b in trickle or b"":
            s.settimeout(0.05)
            try:
                chunk = s.recv(65536)
                if chunk:
                    out += chunk
                    break
            except socket.timeout:
                pass
            s.sendall(bytes([b]))
            time.sleep(1)
        s.settimeout(read_timeout)
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
    except (ConnectionResetError, BrokenPipeError):
        pass
    finally:
        s.close()
    return out


def status_of(resp):
    try:
        return int(resp.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return 0


def body_of(resp):
    try:
        return json.loads(resp.partition(b"\r\n\r\n")[2])
    except ValueError:
        return None


def ws_frame(op, payload=b"", mask=True, fin=True, rsv=0):
    """One WebSocket frame (RFC 6455 section 5.2): masked as a client sends
    it, or not, as a server does; rsv sets reserved bits (to break a rule)."""
    b = bytes([(0x80 if fin else 0) | rsv | op])
    n, m = len(payload), 0x80 if mask else 0
    if n < 126:
        b += bytes([m | n])
    elif n < 65536:
        b += bytes([m | 126]) + n.to_bytes(2, "big")
    else:
        b += bytes([m | 127]) + n.to_bytes(8, "big")
    if not mask:
        return b + payload
    k = os.urandom(4)
    return b + k + bytes(x ^ k[i % 4] for i, x in enumerate(payload))


def ws_split(buf):
    """The first whole frame of buf, as a server sends it (unmasked):
    (its first byte, its payload, the rest of buf), or None for too few bytes."""
    if len(buf) < 2:
        return None
    n, off = buf[1] & 0x7f, 2
    if n >= 126:
        off = 4 if n == 126 else 10
        if len(buf) < off:
            return None
        n = int.from_bytes(buf[2:off], "big")
    if len(buf) < off + n:
        return None
    return buf[0], buf[off:off + n], buf[off + n:]


def verify_inclusion(index, size, leaf, path, root):
    """RFC 9162 section 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + p + r).digest()
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hashlib.sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(m, n, root_m, root_n, proof):
    """RFC 9162 section 2.1.4.2."""
    if m < 1 or m > n:
        return False
    if m == n:
        return not proof and root_m == root_n
    if m & (m - 1) == 0:
        proof = [root_m] + proof
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    if not proof:
        return False
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = hashlib.sha256(b"\x01" + c + fr).digest()
            sr = hashlib.sha256(b"\x01" + c + sr).digest()
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = hashlib.sha256(b"\x01" + sr + c).digest()
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == root_m and sr == root_n


def poll(port, path, want=200, timeout=10):
    deadline = time.time() + timeout
    while True:
        st, j, h, d = req(port, "GET", path)
        if st == want or time.time() > deadline:
            return st, j, h, d
        time.sleep(0.1)


def wait_for(get, ok, timeout=20, step=0.1):
    """Calls get() until ok(value) holds or timeout seconds pass; returns the
    last value.  Every check that depends on something happening in the
    background waits for it this way, never for a fixed time."""
    deadline = time.time() + timeout
    while True:
        try:
            v = get()
        except (OSError, http.client.HTTPException, ValueError):
            v = None
        if v is not None and ok(v):
            return v
        if time.time() > deadline:
            return v
        time.sleep(step)


def wait_line(proc, what, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        if what in line:
            return True
    return False




class Topology:
    """The servers a test starts and stops: a Postgres primary and replica,
    toy-mockapi, a local chain (scripts/chain.sh, on the block's last port),
    toyapp instances and toy-attestd sidecars, in a temporary directory (kept when KEEP is set).
    toyapp runs with CHAIN=off unless extra says otherwise (self.chain is
    the chain's CHAIN_* variables, CHAIN=on included, once it started)."""

    def __init__(self, nports=8, token="it-token"):
        self.tmp = tempfile.mkdtemp(prefix="toyapp-it-")
        os.chmod(self.tmp, 0o755)
        self.base = free_block(nports)
        self.ports = [self.base + i for i in range(nports)]
        self.pg_p, self.pg_r, self.mock = self.ports[0], self.ports[1], self.ports[2]
        self.token = token
        self.procs = []
        self.cluster = [os.path.join(ROOT, "postgres", "cluster.sh")]
        self.pgdir = os.path.join(self.tmp, "pg")
        self.cenv = dict(os.environ, PG_PRIMARY_PORT=str(self.pg_p), PG_REPLICA_PORT=str(self.pg_r))
        self.db = self.db_r = None
        self.chain = None
        self.chain_dir = os.path.join(self.tmp, "chain")
        self.seed = os.path.join(self.tmp, "seed")
        self.app_id = "toyapp-it"

    def start_cluster(self):
        subprocess.run(self.cluster + ["init", self.pgdir], env=self.cenv, check=True, capture_output=True,
                       timeout=120)
        envs = subprocess.run(self.cluster + ["env", self.pgdir], env=self.cenv, check=True,
                              capture_output=True, text=True).stdout
        urls = dict(l.split("=", 1) for l in envs.split() if "=" in l)
        self.db, self.db_r = urls["DATABASE_URL"], urls["DATABASE_REPLICA_URL"]

    def cluster_cmd(self, *args):
        subprocess.run(self.cluster + list(args) + [self.pgdir], env=self.cenv, check=True,
                       capture_output=True, timeout=60)

    def start_mockapi(self):
        p = subprocess.Popen([os.path.join(BUILD, "toy-mockapi"), "--port", str(self.mock)],
                             env=dict(os.environ, MOCK_API_TOKEN=self.token), stdout=subprocess.PIPE, text=True)
        self.procs.append(p)
        return wait_line(p, "listening")

    def start_chain(self):
        """anvil with the registries deployed, this topology's release and
        enclave address registered (as make run does); returns self.chain."""
        env = dict(os.environ, CHAIN_PORT=str(self.ports[-1]), BUILD=os.path.relpath(BUILD, ROOT),
                   TOYCTL=TOYCTL, TEE_PROVIDER="sim", TEE_SIM_SEED=self.seed, APP_ID=self.app_id)
        self.chain = {}
        self.chain_cmd("init", env=env)
        out = self.chain_cmd("env", env=env)
        self.chain = dict(l.split("=", 1) for l in out.split() if "=" in l)
        self.chain["CHAIN"] = "on"
        version = open(os.path.join(ROOT, "VERSION")).read().strip()
        self.chain_cmd("register", version, env=env)
        return self.chain

    def chain_cmd(self, cmd, *args, env=None):
        """scripts/chain.sh CMD DIR ARGS...: its output."""
        return subprocess.run([os.path.join(ROOT, "scripts", "chain.sh"), cmd, self.chain_dir] + list(args),
                              env=env or dict(os.environ, TOYCTL=TOYCTL), check=True, capture_output=True,
                              text=True, timeout=120).stdout

    def rpc(self, method, params=None):
        """A JSON-RPC call to the chain: its result."""
        c = http.client.HTTPConnection("127.0.0.1", self.ports[-1], timeout=10)
        c.request("POST", "/", json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}),
                  {"Content-Type": "application/json"})
        r = json.loads(c.getresponse().read())
        c.close()
        return r.get("result")

    def start_toyapp(self, port, meta, cvm, extra=None):
        env = dict(os.environ, PORT=str(port), METADATA_PORT=str(meta), CVM_ID=cvm,
                   DATABASE_URL=self.db, DATABASE_REPLICA_URL=self.db_r,
                   MOCK_API_URL="http://127.0.0.1:%d" % self.mock, MOCK_API_TOKEN=self.token,
                   TEE_PROVIDER="sim", TEE_SIM_SEED=self.seed, APP_ID=self.app_id, CHAIN="off")
        env.update(extra or {})
        return self._start("toyapp", cvm, env)

    def _start(self, prog, cvm, env):
        """BUILD/prog in the background with env, its stderr in prog-cvm.log,
        until it says it is listening."""
        log = open(os.path.join(self.tmp, "%s-%s.log" % (prog, cvm)), "a")
        p = subprocess.Popen([os.path.join(BUILD, prog)], env=env, stdout=subprocess.PIPE, stderr=log, text=True)
        self.procs.append(p)
        if not wait_line(p, "listening"):
            raise SystemExit("%s %s did not start (see %s)" % (prog, cvm, log.name))
        return p

    def start_attestd(self, meta, cvm, role, extra=None):
        """toy-attestd for a Postgres role on port meta, with this topology's
        seed and app id (CHAIN=off unless extra says otherwise)."""
        env = dict(os.environ, METADATA_PORT=str(meta), CVM_ID=cvm, TOYAPP_ROLE=role, TEE_PROVIDER="sim",
                   TEE_SIM_SEED=self.seed, APP_ID=self.app_id, CHAIN="off")
        env.update(extra or {})
        return self._start("toy-attestd", cvm, env)

    def psql(self, sql, url=None):
        out = subprocess.run(["psql", url or self.db, "-tAc", sql], capture_output=True, text=True, timeout=20)
        return out.stdout.strip()

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        subprocess.run(self.cluster + ["stop", self.pgdir], env=self.cenv, capture_output=True, timeout=60)
        if self.chain is not None:
            subprocess.run([os.path.join(ROOT, "scripts", "chain.sh"), "stop", self.chain_dir],
                           capture_output=True, timeout=60)
        if os.environ.get("KEEP"):
            print("kept", self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

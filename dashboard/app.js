/*
 * app.js — toyapp's dashboard: the latest signed report (GET /report) and
 * the live audit log (GET /ws), with every check done here, in the browser.
 *
 * What is checked (docs/auditing.md, "Exactly what is signed and hashed";
 * the frames are spec/records/streams.spec's):
 *   - every Ed25519 signature (WebCrypto), over the canonical JSON of the
 *     record without its signature, by the one key the report names;
 *   - each entry: its leaf hash is SHA-256(0x00 || its canonical JSON), and
 *     its inclusion path leads to its signed batch head's root (RFC 9162
 *     §2.1.3.2);
 *   - each tree head: its consistency proof from the stream's previous head
 *     (RFC 9162 §2.1.4.2); with every entry shown (entries=all), also that
 *     the entries since the previous head, appended to the log's compact
 *     range, give exactly its root;
 *   - the report: its signature and its tree head's, and its IPFS CID (CIDv1,
 *     raw, sha2-256) computed over the exact bytes served.
 * A failed check is shown as failed: on the item, in the alert, in the
 * counts.  Nothing here trusts the page's server for anything it can check.
 */
'use strict';

(() => {
  const FEED_MAX = 60;           // entries kept on screen
  const GROWTH_POINTS = 120;     // tree sizes kept for the chart
  const enc = new TextEncoder();
  const $ = (id) => document.getElementById(id);

  // ---- bytes ----------------------------------------------------------------

  function fromHex(h, n) {
    if (typeof h !== 'string' || !/^(?:[0-9a-f]{2})*$/.test(h) || (n !== undefined && h.length !== 2 * n))
      throw new Error('not ' + (n === undefined ? '' : n + ' bytes of ') + 'lowercase hex');
    const b = new Uint8Array(h.length / 2);
    for (let i = 0; i < b.length; i++) b[i] = parseInt(h.substr(2 * i, 2), 16);
    return b;
  }
  const toHex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

  async function sha256(...parts) {
    const n = parts.reduce((s, p) => s + p.length, 0), all = new Uint8Array(n);
    let o = 0;
    for (const p of parts) { all.set(p, o); o += p.length; }
    return new Uint8Array(await crypto.subtle.digest('SHA-256', all));
  }
  const leafHash = (bytes) => sha256(Uint8Array.of(0), bytes);
  const nodeHash = (l, r) => sha256(Uint8Array.of(1), l, r);

  // ---- canonical JSON: RFC 8785, integers only (docs/auditing.md) -----------

  function canonical(v) {
    if (v === null || typeof v === 'boolean' || typeof v === 'string') return JSON.stringify(v);
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) throw new Error('a number that is not an integer within ±(2^53−1)');
      return String(v);
    }
    if (Array.isArray(v)) return '[' + v.map(canonical).join(',') + ']';
    if (typeof v === 'object') {
      // Default sort compares UTF-16 code units, as RFC 8785 orders members.
      return '{' + Object.keys(v).sort().map((k) => JSON.stringify(k) + ':' + canonical(v[k])).join(',') + '}';
    }
    throw new Error('not a JSON value');
  }
  const withoutSignature = (rec) => { const c = Object.assign({}, rec); delete c.signature; return c; };

  // ---- Ed25519 ---------------------------------------------------------------

  let pinnedKey = null;          // the service's key, from the report (or the first head)
  const keys = new Map();

  async function verifySigned(rec, what) {
    if (!rec || typeof rec !== 'object') throw new Error(what + ' is missing');
    if (pinnedKey === null) pinnedKey = rec.publicKey;
    if (rec.publicKey !== pinnedKey) throw new Error(what + ' is signed by another key than the service\'s');
    let key = keys.get(rec.publicKey);
    if (!key) {
      key = await crypto.subtle.importKey('raw', fromHex(rec.publicKey, 32), { name: 'Ed25519' }, false, ['verify']);
      keys.set(rec.publicKey, key);
    }
    const ok = await crypto.subtle.verify({ name: 'Ed25519' }, key, fromHex(rec.signature, 64),
      enc.encode(canonical(withoutSignature(rec))));
    if (!ok) throw new Error(what + '\'s signature does not verify');
  }

  // ---- RFC 9162 proofs ---------------------------------------------------------

  // §2.1.3.2: does path lead from leaf (index of size) to root?
  async function verifyInclusion(index, size, leaf, path, root) {
    if (index >= size) return false;
    let fn = index, sn = size - 1, r = leaf;
    for (const p of path) {
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        r = await nodeHash(p, r);
        if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      } else {
        r = await nodeHash(r, p);
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    return sn === 0 && equal(r, root);
  }

  // Sizes go past 2^32, where JavaScript's bit operators stop: arithmetic only.
  const isPow2 = (m) => { while (m > 1 && m % 2 === 0) m /= 2; return m === 1; };

  // §2.1.4.2: does proof show the tree (m, rootM) is a prefix of (n, rootN)?
  async function verifyConsistency(m, n, rootM, rootN, proof) {
    if (m < 1 || m > n) return false;
    if (m === n) return proof.length === 0 && equal(rootM, rootN);
    if (isPow2(m)) proof = [rootM].concat(proof);
    let fn = m - 1, sn = n - 1;
    while (fn % 2 === 1) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    if (!proof.length) return false;
    let fr = proof[0], sr = proof[0];
    for (const c of proof.slice(1)) {
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        fr = await nodeHash(c, fr);
        sr = await nodeHash(c, sr);
        if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      } else {
        sr = await nodeHash(sr, c);
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    return sn === 0 && equal(fr, rootM) && equal(sr, rootN);
  }

  // The log's compact range: one subtree hash per set bit of its size,
  // the largest first.  Appending leaves to it recomputes the root.
  class Frontier {
    constructor(size, hashes) { this.size = size; this.h = hashes.slice(); }
    async append(leaf) {
      let h = leaf, n = this.size;
      while (n % 2 === 1) { h = await nodeHash(this.h.pop(), h); n = Math.floor(n / 2); }
      this.h.push(h);
      this.size++;
    }
    async root() {
      if (!this.h.length) return sha256(new Uint8Array(0));
      let r = this.h[this.h.length - 1];
      for (let i = this.h.length - 2; i >= 0; i--) r = await nodeHash(this.h[i], r);
      return r;
    }
  }
  const popcount = (n) => { let c = 0; while (n > 0) { c += n % 2; n = Math.floor(n / 2); } return c; };

  // ---- IPFS CID: CIDv1, raw, sha2-256, base32 (rt_cid) ----------------------

  function cidOf(digest) {
    const b = Uint8Array.of(0x01, 0x55, 0x12, 0x20, ...digest), abc = 'abcdefghijklmnopqrstuvwxyz234567';
    let out = 'b', acc = 0, bits = 0;
    for (const x of b) {
      acc = (acc << 8) | x; bits += 8;
      while (bits >= 5) { out += abc[(acc >>> (bits - 5)) & 31]; bits -= 5; }
    }
    if (bits) out += abc[(acc << (5 - bits)) & 31];
    return out;
  }

  // ---- the page ---------------------------------------------------------------

  const stats = { verified: 0, failed: 0, heads: 0 };
  const failures = [];
  const growth = [];

  function setText(id, text) { $(id).textContent = text; }
  function setState(id, ok, text) {
    const el = $(id);
    el.textContent = text;
    el.className = 'state ' + (ok === null ? 'pending' : ok ? 'ok' : 'failed');
  }
  const fmt = (n) => Number(n).toLocaleString('en-US');

  function fail(what) {
    stats.failed++;
    failures.push(what);
    const a = $('alert');
    a.hidden = false;
    a.textContent = 'Verification failed (' + failures.length + '): ' + failures.slice(-3).join(' · ');
    summary();
  }

  let summaryTimer = null;
  function summary() {
    // At most one announcement a second for screen readers.
    if (summaryTimer) return;
    summaryTimer = setTimeout(() => {
      summaryTimer = null;
      setText('feed-summary', fmt(stats.verified) + ' entries verified, ' + fmt(stats.failed) +
        ' checks failed, ' + fmt(stats.heads) + ' tree heads verified.');
    }, 250);
  }

  // ---- the report ---------------------------------------------------------------

  async function loadReport() {
    const checks = $('report-checks');
    checks.replaceChildren();
    const note = (ok, text) => {
      const li = document.createElement('li');
      li.className = ok ? 'ok' : 'failed';
      li.textContent = (ok ? 'Verified: ' : 'FAILED: ') + text;
      checks.append(li);
      return ok;
    };
    let bytes, report;
    try {
      const res = await fetch('/report', { cache: 'no-store' });
      bytes = new Uint8Array(await res.arrayBuffer());
      if (!res.ok) throw new Error('GET /report answered ' + res.status);
      report = JSON.parse(new TextDecoder().decode(bytes));
    } catch (e) {
      setState('report-state', false, 'Could not load the report: ' + e.message);
      return;
    }
    const s = report.summary || {}, w = report.timeWindow || {}, th = report.treeHead || {};
    setText('report-id', report.reportId);
    setText('report-generated', report.generatedAt);
    setText('report-window', w.start + ' to ' + w.end);
    setText('report-tree-size', fmt(th.treeSize));
    setText('report-root', th.root);
    setText('report-key', report.publicKey);
    setText('report-tee', report.teeProvider);
    setText('report-cid', cidOf(await sha256(bytes)));
    setText('fig-users', fmt(s.totalUsersProcessed));
    setText('fig-safe', fmt(s.totalSafeApiCalls));
    setText('fig-signups', fmt(s.totalSignups));
    setText('fig-deletions', fmt(s.totalDeletions));
    setText('figures-as-of', report.reportId + ', ' + report.generatedAt);
    let ok = true;
    try {
      // The report names the key every later signature must be by.
      pinnedKey = report.publicKey;
      await verifySigned(report, 'the report');
      ok = note(true, 'the report\'s signature') && ok;
    } catch (e) { ok = note(false, e.message); fail(e.message); }
    try {
      await verifySigned(th, 'the report\'s tree head');
      ok = note(true, 'its signed tree head (size ' + fmt(th.treeSize) + ')') && ok;
    } catch (e) { ok = note(false, e.message); fail(e.message); }
    const digestOk = s.auditLogDigest === 'sha256:' + th.root;
    ok = note(digestOk, 'its auditLogDigest is its tree head\'s root') && ok;
    if (!digestOk) fail('the report\'s auditLogDigest is not its root');
    setState('report-state', ok, ok ? 'Verified' : 'FAILED');
  }

  // ---- the feed ---------------------------------------------------------------------

  const log = {
    size: null,                  // the stream's last verified tree size
    root: null,
    frontier: null,              // entries=all: the compact range at `size` + entries since
    pending: [],                 // entries=all: leaf hashes since the last head
  };
  let mode = new URLSearchParams(location.search).get('entries') === 'all' ? 'all' : 'latest';
  // gen counts connections: frames of a connection we left are not checked.
  let socket = null, paused = false, retry = 1000, chain = Promise.resolve(), gen = 0;

  function showHead(th) {
    setText('tree-size', fmt(th.treeSize));
    setText('head-time', th.timestamp);
    setText('head-root', th.root);
    setText('heads-checked', fmt(stats.heads));
    // Plotted by the head's own signed time, so history and live line up.
    const at = Date.parse(th.timestamp);
    if (!growth.length || th.treeSize > growth[growth.length - 1][1])
      growth.push([Number.isFinite(at) ? at : Date.now(), th.treeSize]);
    if (growth.length > GROWTH_POINTS) growth.shift();
    drawGrowth();
  }

  function drawGrowth() {
    const svg = $('growth');
    if (growth.length < 2) return;
    const t0 = growth[0][0], t1 = growth[growth.length - 1][0], s0 = growth[0][1], s1 = growth[growth.length - 1][1];
    const x = (t) => (t1 === t0 ? 300 : ((t - t0) / (t1 - t0)) * 300);
    const y = (s) => (s1 === s0 ? 40 : 76 - ((s - s0) / (s1 - s0)) * 72);
    const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
    line.setAttribute('points', growth.map(([t, s]) => x(t).toFixed(1) + ',' + y(s).toFixed(1)).join(' '));
    line.setAttribute('class', 'growth-line');
    svg.replaceChildren(line);
    const secs = (t1 - t0) / 1000, span = secs >= 120 ? Math.round(secs / 60) + ' min' : secs.toFixed(secs < 10 ? 1 : 0) + ' s';
    setText('growth-caption', 'Tree size grew from ' + fmt(s0) + ' to ' + fmt(s1) + ' in ' + span +
      ' (by the tree heads\' signed times).');
  }

  function addItem(frame, entry, ok, why) {
    // An entry read again (after a failed check, or a reconnection) says so.
    const again = !!$('feed').querySelector('li[data-leaf-index="' + Number(frame.leafIndex) + '"]');
    const li = document.createElement('li');
    li.className = ok ? 'ok' : 'failed';
    li.dataset.leafIndex = String(frame.leafIndex);
    li.dataset.state = ok ? 'verified' : 'failed';
    if (entry && entry.receiptId) li.dataset.receiptId = entry.receiptId;
    const head = document.createElement('span');
    head.className = 'what';
    head.textContent = '#' + fmt(frame.leafIndex) + ' ' + (entry ? entry.action : '(purged by a deletion)');
    const badge = document.createElement('span');
    badge.className = 'badge';
    badge.textContent = (ok ? 'verified' : 'FAILED: ' + why) + (again ? ' (read again)' : '');
    const detail = document.createElement('span');
    detail.className = 'detail';
    detail.textContent = entry ? [entry.timestamp, entry.cvmId, entry.receiptId || entry.reportId || entry.endpoint || '']
      .filter(Boolean).join(' · ') : 'leaf ' + frame.leafHash;
    li.append(head, ' ', badge, ' ', detail);
    const feed = $('feed');
    feed.prepend(li);
    while (feed.children.length > FEED_MAX) feed.lastChild.remove();
  }

  async function onStart(f) {
    const size = f.treeSize;
    if (!Number.isSafeInteger(size) || !Array.isArray(f.frontier) || f.frontier.length !== popcount(size))
      throw new Error('the start frame is malformed');
    const hashes = f.frontier.map((h) => fromHex(h, 32));
    const fr = new Frontier(size, hashes);
    if (size > 0) {
      await verifySigned(f.treeHead, 'the tree head of size ' + size);
      if (f.treeHead.treeSize !== size || !equal(await fr.root(), fromHex(f.treeHead.root, 32)))
        throw new Error('the start frame\'s compact range does not give its tree head\'s root');
      // Resuming (?from=size): the stream must start at the very head we had.
      if (log.size !== null && (size !== log.size || (log.root && !equal(log.root, fromHex(f.treeHead.root, 32)))))
        throw new Error('the stream resumed at another tree head than the one we had (size ' + size + ')');
      log.root = fromHex(f.treeHead.root, 32);
      stats.heads++;
      showHead(f.treeHead);
    } else {
      log.root = null;
    }
    if (log.size === null || size !== log.size) log.size = size;
    log.frontier = mode === 'all' ? fr : null;
    log.pending = [];
    setState('log-state', true, 'Verified: the tree head of size ' + fmt(size));
  }

  async function onAudit(f) {
    let entry = f.entry, why = null;
    try {
      const leaf = fromHex(f.leafHash, 32);
      if (entry !== null) {
        if (!equal(await leafHash(enc.encode(canonical(entry))), leaf))
          throw new Error('the entry does not hash to its leaf');
      }
      const bh = f.batchHead;
      await verifySigned(bh, 'batch ' + (bh && bh.batchId));
      if (!await verifyInclusion(f.batchIndex, bh.size, leaf, f.batchPath.map((h) => fromHex(h, 32)), fromHex(bh.root, 32)))
        throw new Error('its inclusion path does not lead to its batch\'s signed root');
      if (log.size !== null && f.leafIndex < log.size) throw new Error('an entry from before the stream\'s position');
      if (log.frontier) {
        if (f.leafIndex !== log.size + log.pending.length) throw new Error('an entry out of log order');
        log.pending.push(leaf);
      }
    } catch (e) {
      why = e.message;
    }
    if (why === null) stats.verified++;
    else fail('entry #' + f.leafIndex + ': ' + why);
    addItem(f, entry, why === null, why);
    summary();
  }

  async function onTreeHead(f) {
    const th = f.treeHead;
    try {
      await verifySigned(th, 'the tree head of size ' + (th && th.treeSize));
      const root = fromHex(th.root, 32);
      if (log.size === null) throw new Error('a tree head before the start frame');
      if (f.from !== log.size) throw new Error('a tree head whose proof is from ' + f.from + ', not from ' + log.size);
      if (f.from > 0 && !await verifyConsistency(f.from, th.treeSize, log.root, root, f.consistency.map((h) => fromHex(h, 32))))
        throw new Error('the tree head of size ' + th.treeSize + ' is not consistent with the one of size ' + f.from);
      if (log.frontier) {
        if (log.frontier.size + log.pending.length !== th.treeSize)
          throw new Error('the entries since the last head are not all there');
        for (const leaf of log.pending) await log.frontier.append(leaf);
        log.pending = [];
        if (!equal(await log.frontier.root(), root))
          throw new Error('the entries since the last head do not give the root of size ' + th.treeSize);
      }
      log.size = th.treeSize;
      log.root = root;
      stats.heads++;
      showHead(th);
      setState('log-state', true, 'Verified: every tree head, each consistent with the one before' +
        (mode === 'all' ? ', and every entry in its place' : ''));
    } catch (e) {
      fail(e.message);
      setState('log-state', false, 'FAILED: ' + e.message);
      resync();
    }
    summary();
  }

  // After a tree head fails, the stream's later proofs start from a head we
  // did not accept: read it again from the last head that verified.
  function resync() {
    gen++;
    if (socket) { const s = socket; s.close(1000, 'a check failed: reading again from the last verified head'); }
  }

  async function onFrame(text) {
    let f;
    try { f = JSON.parse(text); } catch (e) { fail('a frame that is not JSON'); return; }
    try {
      if ('frontier' in f) await onStart(f);
      else if ('leafIndex' in f) await onAudit(f);
      else if ('consistency' in f) await onTreeHead(f);
      else fail('a frame that spec/records/streams.spec does not declare');
    } catch (e) {
      fail(e.message);
      setState('log-state', false, 'FAILED: ' + e.message);
    }
  }

  // The first connection starts HISTORY entries back, so the feed is not
  // empty on arrival: those rounds are checked like live ones.
  const HISTORY = 50;
  let firstFrom = null;

  function connect() {
    if (paused) return;
    const at = log.size !== null ? log.size : firstFrom;
    const from = at !== null ? '&from=' + at : '';
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws?entries=' + mode + from;
    const ws = new WebSocket(url), g = ++gen;
    socket = ws;
    ws.onopen = () => { retry = 1000; setText('connection', 'Live: receiving the audit log (' + mode + ' entries).'); };
    // Frames are checked one after the other, in the order they came.
    ws.onmessage = (ev) => { chain = chain.then(() => (g === gen ? onFrame(ev.data) : null)); };
    ws.onclose = (ev) => {
      if (socket !== ws) return;
      socket = null;
      const why = ev.code + (ev.reason ? ' ' + ev.reason : '');
      if (paused) { setText('connection', 'Paused (closed ' + why + ').'); return; }
      setText('connection', 'Disconnected (' + why + '); reconnecting in ' + Math.round(retry / 1000) + ' s from tree size ' +
        (log.size === null ? 'latest' : fmt(log.size)) + '.');
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 10000);
    };
  }

  function reconnect() {
    gen++;
    if (socket) { const s = socket; socket = null; s.close(1000, 'the page changed what it asks for'); }
    chain = chain.then(() => {
      log.frontier = null;
      log.pending = [];
      connect();
    });
  }

  // ---- start -------------------------------------------------------------------------

  function start() {
    $('mode').value = mode;
    $('mode').addEventListener('change', () => { mode = $('mode').value; reconnect(); });
    $('feed-options').addEventListener('submit', (e) => e.preventDefault());
    $('pause').addEventListener('click', () => {
      paused = !paused;
      $('pause').setAttribute('aria-pressed', String(paused));
      $('pause').textContent = paused ? 'Resume' : 'Pause';
      if (paused && socket) socket.close(1000, 'paused');
      if (!paused) reconnect();
    });
    if (!window.crypto || !crypto.subtle) {
      $('alert').hidden = false;
      $('alert').textContent = 'This browser has no WebCrypto here (it needs https or localhost): nothing can be checked.';
      return;
    }
    const head = fetch('/log/head', { cache: 'no-store' }).then((r) => (r.ok ? r.json() : null))
      .then((h) => { if (h && Number.isSafeInteger(h.treeSize)) firstFrom = Math.max(0, h.treeSize - HISTORY); })
      .catch(() => {});
    Promise.allSettled([loadReport(), head]).then(connect);
  }
  start();
})();

// dashboard_browser.mjs — drives the dashboard in Debian's Chromium
// (playwright-core, pinned), for test_dashboard.py, which starts the servers
// and the tampering proxy and reads what this prints: one JSON line per
// result, {"check": name, "ok": bool, "detail": ...}, and {"done": true}.
//
// Usage: node dashboard_browser.mjs API_URL PROXY_URL OUT_DIR
//   OUT_DIR gets dashboard.png (desktop), dashboard-phone.png, the report's
//   bytes as the page's fetch saw them (report.json) and the CID the page
//   shows (report.cid), for the Python side to compare with toyctl.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [api, proxy, out] = process.argv.slice(2);
const emit = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const check = (name, ok, detail) => emit({ check: name, ok: !!ok, detail });

const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

async function submit(base, tag) {
  const body = JSON.stringify({ userId: tag + '@example.com', sensitivePayload: tag + ': a chess lecture, age: 30' });
  const res = await fetch(base + '/submit-data', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
  const j = await res.json();
  return { status: res.status, receipt: j, at: Date.now() };
}

// Opens the dashboard at base in a new page; records console errors, page
// errors and every request that is not to 127.0.0.1.
async function open(context, base, path = '/dashboard') {
  const page = await context.newPage();
  const log = { errors: [], foreign: [] };
  page.on('console', (m) => { if (m.type() === 'error') log.errors.push(m.text()); });
  page.on('pageerror', (e) => log.errors.push(String(e)));
  page.on('request', (r) => { if (!/^(https?|wss?):\/\/127\.0\.0\.1[:/]/.test(r.url())) log.foreign.push(r.url()); });
  await page.goto(base + path);
  await page.waitForFunction(() => /^Live/.test(document.getElementById('connection').textContent), null, { timeout: 10000 });
  // The recent history it starts with has been read and checked.
  const head = await (await fetch(api + '/log/head')).json();
  await page.waitForFunction((size) => document.getElementById('tree-size').textContent ===
    Number(size).toLocaleString('en-US'), head.treeSize, { timeout: 10000 }).catch(() => {});
  return { page, log };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'toyapp-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: '/usr/bin/chromium', headless: true, args: FLAGS, viewport: { width: 1280, height: 1000 },
  });
  try {
    // ---- the page, straight from toyapp ----
    const { page, log } = await open(context, api);
    await page.waitForFunction(() => document.getElementById('report-state').textContent !== 'Not checked yet', null,
      { timeout: 10000 });
    check('the report panel says Verified', await page.textContent('#report-state') === 'Verified',
      await page.textContent('#report-state'));

    // The recent history: every entry verified, the purged one too.
    const hist = await page.evaluate(() => [...document.querySelectorAll('#feed li')].map((li) =>
      [li.dataset.state, li.textContent]));
    const purged = hist.filter(([, t]) => /purged by a deletion/.test(t));
    check('the history it starts with is checked entry by entry, all verified, a purged entry included',
      hist.length >= 10 && hist.every(([st]) => st === 'verified') && purged.length === 1,
      { n: hist.length, purged, bad: hist.filter(([st]) => st !== 'verified').slice(0, 3) });

    // An entry submitted now appears within a second, verified.
    const s = await submit(api, 'browser-' + Date.now());
    const sel = `li[data-receipt-id="${s.receipt.receiptId}"]`;
    let shown = null;
    try {
      await page.waitForSelector(sel, { timeout: 5000 });
      shown = Date.now();
    } catch (e) { /* checked below */ }
    const state = shown && await page.getAttribute(sel, 'data-state');
    check('a submitted entry appears within a second of its answer, marked verified',
      s.status === 200 && shown && shown - s.at <= 1000 && state === 'verified',
      { status: s.status, ms: shown && shown - s.at, state });
    const text = shown && await page.textContent(sel);
    check('its line says "verified" in words', text && /verified/.test(text) && !/FAILED/.test(text), text);

    // The report panel is GET /report.
    const res = await fetch(api + '/report');
    const bytes = Buffer.from(await res.arrayBuffer());
    const report = JSON.parse(bytes.toString('utf8'));
    const panel = await page.evaluate(() => Object.fromEntries(['report-id', 'report-generated', 'report-window',
      'report-tree-size', 'report-root', 'report-key', 'report-tee', 'report-cid', 'fig-users', 'fig-safe',
      'fig-signups', 'fig-deletions'].map((id) => [id, document.getElementById(id).textContent])));
    const n = (x) => Number(x).toLocaleString('en-US');
    const want = {
      'report-id': report.reportId, 'report-generated': report.generatedAt,
      'report-window': report.timeWindow.start + ' to ' + report.timeWindow.end,
      'report-tree-size': n(report.treeHead.treeSize), 'report-root': report.treeHead.root,
      'report-key': report.publicKey, 'report-tee': report.teeProvider,
      'fig-users': n(report.summary.totalUsersProcessed), 'fig-safe': n(report.summary.totalSafeApiCalls),
      'fig-signups': n(report.summary.totalSignups), 'fig-deletions': n(report.summary.totalDeletions),
    };
    const diff = Object.keys(want).filter((k) => panel[k] !== want[k]);
    check('the report panel shows GET /report', diff.length === 0, diff.map((k) => [k, panel[k], want[k]]));
    writeFileSync(join(out, 'report.json'), bytes);
    writeFileSync(join(out, 'report.cid'), panel['report-cid']);

    // The tree size on the page is the log's.
    const head = await (await fetch(api + '/log/head')).json();
    await page.waitForFunction((size) => document.getElementById('tree-size').textContent ===
      Number(size).toLocaleString('en-US'), head.treeSize, { timeout: 5000 }).catch(() => {});
    check('the log panel shows the signed tree size', await page.textContent('#tree-size') === n(head.treeSize),
      [await page.textContent('#tree-size'), head.treeSize]);

    // With the keyboard: every entry, each checked in its place in the log.
    await page.focus('#mode');
    await page.keyboard.press('ArrowDown');   // "all": the select changes on the key
    await page.waitForFunction(() => /Live: receiving the audit log \(all/.test(document.getElementById('connection').textContent),
      null, { timeout: 5000 }).catch(() => {});
    const s2 = await submit(api, 'browser-all-' + Date.now());
    await page.waitForSelector(`li[data-receipt-id="${s2.receipt.receiptId}"][data-state="verified"]`, { timeout: 5000 })
      .catch(() => {});
    await page.waitForFunction(() => /every entry in its place/.test(document.getElementById('log-state').textContent),
      null, { timeout: 5000 }).catch(() => {});
    check('the keyboard switches the feed to every entry, and each is checked in its place in the log',
      /every entry in its place/.test(await page.textContent('#log-state')) &&
      await page.getAttribute(`li[data-receipt-id="${s2.receipt.receiptId}"]`, 'data-state') === 'verified',
      await page.textContent('#log-state'));

    // Semantics: landmarks, labels, live regions, alert hidden while all is well.
    const a11y = await page.evaluate(() => ({
      main: !!document.querySelector('main'), header: !!document.querySelector('header'),
      h1: document.querySelectorAll('h1').length, sections: [...document.querySelectorAll('section')].every((s) =>
        s.getAttribute('aria-labelledby') && document.getElementById(s.getAttribute('aria-labelledby'))),
      labelled: [...document.querySelectorAll('select, input')].every((c) => c.labels && c.labels.length),
      status: document.getElementById('connection').getAttribute('role') === 'status',
      alertHidden: document.getElementById('alert').hidden, lang: document.documentElement.lang,
      failed: document.querySelectorAll('li.failed').length,
    }));
    check('semantic HTML: header, main, one h1, labelled sections and controls, status regions, a language',
      a11y.main && a11y.header && a11y.h1 === 1 && a11y.sections && a11y.labelled && a11y.status && a11y.lang === 'en', a11y);
    check('nothing failed on the untampered page', a11y.alertHidden && a11y.failed === 0, a11y);
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(out, 'dashboard.png'), fullPage: true });

    // On a phone: one column, nothing wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(200);
    const wide = await page.evaluate(() => [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5 && !e.closest('.skip'))
      .map((e) => e.tagName + (e.id ? '#' + e.id : '') + ' ' + Math.round(e.getBoundingClientRect().right)));
    const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    check('on a 390 px wide screen nothing is wider than the screen', fits && wide.length === 0, wide.slice(0, 5));
    await page.screenshot({ path: join(out, 'dashboard-phone.png'), fullPage: false });

    check('no console error and no page error', log.errors.length === 0, log.errors);
    check('every request went to toyapp (127.0.0.1), none anywhere else', log.foreign.length === 0, log.foreign);

    // ---- the page through the tampering proxy ----
    const t = await open(context, proxy);
    await fetch(proxy + '/__tamper');
    const bad = await submit(api, 'tampered-' + Date.now());
    const badSel = `li[data-receipt-id="${bad.receipt.receiptId}"]`;
    await t.page.waitForSelector(badSel + '[data-state="failed"]', { timeout: 5000 }).catch(() => {});
    const badText = await t.page.textContent(badSel + '[data-state="failed"]').catch(() => null);
    check('a tampered entry is marked failed, in words', /FAILED: the entry does not hash to its leaf/.test(badText || ''),
      badText);
    const good = await submit(api, 'after-' + Date.now());
    await t.page.waitForSelector(`li[data-receipt-id="${good.receipt.receiptId}"]`, { timeout: 5000 }).catch(() => {});
    check('the next, untampered entry still verifies',
      await t.page.getAttribute(`li[data-receipt-id="${good.receipt.receiptId}"]`, 'data-state').catch(() => null) === 'verified');
    await t.page.waitForFunction(() => /signature does not verify/.test(document.getElementById('alert').textContent),
      null, { timeout: 5000 }).catch(() => {});
    const alert = await t.page.evaluate(() => ({ hidden: document.getElementById('alert').hidden,
      text: document.getElementById('alert').textContent, role: document.getElementById('alert').getAttribute('role') }));
    check('a tampered tree head fails its check, and the alert says so, with the entry\'s failure',
      !alert.hidden && alert.role === 'alert' && /tree head of size \d+'s signature does not verify/.test(alert.text) &&
      /does not hash to its leaf/.test(alert.text), alert);
    // After a failed head the page reads the feed again from its last good
    // head: the heads that follow verify.
    const after = await submit(api, 'resynced-' + Date.now());
    await t.page.waitForSelector(`li[data-receipt-id="${after.receipt.receiptId}"]`, { timeout: 5000 }).catch(() => {});
    await t.page.waitForFunction(() => /^Verified/.test(document.getElementById('log-state').textContent), null,
      { timeout: 5000 }).catch(() => {});
    check('after it, the page reads the feed again from its last good head, and what follows verifies',
      /^Verified/.test(await t.page.textContent('#log-state')), await t.page.textContent('#log-state'));
    await t.page.screenshot({ path: join(out, 'dashboard-tampered.png'), fullPage: true });
  } finally {
    await context.close();
    rmSync(dir, { recursive: true, force: true });
  }
  emit({ done: true });
}

main().catch((e) => { emit({ check: 'the browser run', ok: false, detail: String(e && e.stack || e) }); emit({ done: true }); });

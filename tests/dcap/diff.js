#!/usr/bin/env node
// diff.js - the differential test of rt_dcap against @phala/dcap-qvl.
//
//   node tests/dcap/diff.js gen BASES.json[,MORE.json] OUT N   writes
//        OUT/mutants.bin: the base cases of the BASES files and N mutants
//   node tests/dcap/diff.js ref OUT                verifies every case of
//        OUT/mutants.bin with dcap-qvl, in this one process -> OUT/ref.txt
//   node tests/dcap/diff.js compare OUT            reads OUT/ref.txt and
//        OUT/ours.txt (build/dcap_batch's verdicts on the same file), prints
//        the agreement per region, and exits 1 on a disagreement that
//        classes.js does not explain
//
// BASES.json: [{"name", "quote": path, "collateral": path, "now": "RFC 3339",
// "root": optional path of a DER root to trust instead of Intel's (the sim
// root), "weight": share of the mutants}].
//
// A mutant is one patch of a base (bytes [off, off+del) of the quote or of
// the collateral JSON text replaced by ins), or a base at another time.
// Patches are chosen per region (the quote's header, TD report, signature,
// attestation key, QE report, ... ; each collateral field) by a seeded
// PRNG, so a run is reproducible; collateral patches keep the JSON valid
// (printable characters, escaped where JSON needs it), so that what is
// tested is the verifier, not the JSON parser.
//
// mutants.bin: "TDCM1\n", u32 nbases, then per base: u32 len + quote, u32
// len + collateral, i64 now, u32 flags (1: trust the sim root), u32 len +
// name; u32 nmut, then per mutant: u32 base, u8 target (0 quote, 1
// collateral), u32 off, u32 del, u32 len + ins, i64 now, u32 len + region.
// All integers little-endian.
'use strict';
const fs = require('fs');
const path = require('path');
const { classify, explained } = require('./classes');

const ROOT = path.resolve(__dirname, '../..');
const qvl = require(path.join(ROOT, 'node_modules/@phala/dcap-qvl/src/verify.js'));

// ---- deterministic PRNG (mulberry32) -------------------------------------
function prng(seed) {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

// ---- the regions of a quote ------------------------------------------------
function quoteRegions(q) {
    const u16 = (o) => q.readUInt16LE(o), u32 = (o) => q.readUInt32LE(o);
    const v = u16(0);
    let off = 48;
    const r = [['quote:header', 0, 48]];
    let bodyLen = 584;
    if (v === 5) {
        r.push(['quote:body_descriptor', 48, 54]);
        bodyLen = u16(48) === 3 ? 648 : 584;
        off = 54;
    }
    r.push(['quote:td_report', off, off + bodyLen]);
    off += bodyLen;
    r.push(['quote:auth_len', off, off + 4]);
    const sdEnd = off + 4 + u32(off);
    off += 4;
    r.push(['quote:signature', off, off + 64]);
    r.push(['quote:attestation_key', off + 64, off + 128]);
    off += 128;
    r.push(['quote:cert_data_header', off, off + 6]);
    off += 6;
    r.push(['quote:qe_report', off, off + 384]);
    r.push(['quote:qe_report_signature', off + 384, off + 448]);
    off += 448;
    const authLen = u16(off);
    r.push(['quote:qe_auth', off, off + 2 + authLen]);
    off += 2 + authLen;
    r.push(['quote:inner_header', off, off + 6]);
    off += 6;
    // The PEM chain: the base64 text of each certificate, and the rest
    // (BEGIN/END lines, line ends, the final NUL).
    const pem = q.subarray(off, sdEnd).toString('latin1');
    const re = /-----BEGIN CERTIFICATE-----\n([A-Za-z0-9+/=\n]+?)\n-----END CERTIFICATE-----/g;
    let m, k = 0;
    while ((m = re.exec(pem)) !== null) {
        const s = off + m.index + 28;
        r.push([`quote:pck_cert${++k}`, s, s + m[1].length]);
    }
    r.push(['quote:pem_framing', off, sdEnd, (i) => !r.some(([n, a, b]) => n.startsWith('quote:pck_cert') && i >= a && i < b)]);
    if (q.length > sdEnd)
        r.push(['quote:padding', sdEnd, q.length]);
    return r;
}

// ---- the regions of the collateral text -------------------------------------
// Each field's value span inside the JSON text (between its quotes).
function collateralRegions(text) {
    const r = [];
    for (const f of ['tcb_info', 'tcb_info_signature', 'tcb_info_issuer_chain', 'qe_identity',
                     'qe_identity_signature', 'qe_identity_issuer_chain', 'root_ca_crl', 'pck_crl',
                     'pck_crl_issuer_chain']) {
        const key = `"${f}":`;
        let i = text.indexOf(key);
        if (i < 0)
            continue;
        i += key.length;
        while (text[i] === ' ')
            i++;
        if (text[i] !== '"')
            continue;
        let j = i + 1;
        while (text[j] !== '"')
            j += text[j] === '\\' ? 2 : 1;
        r.push([`collateral:${f}`, i + 1, j]);
    }
    return r;
}

const HEX = '0123456789abcdef';
const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).filter((c) => c !== '"' && c !== '\\');

function mutateQuote(rand, q, [region, a, b, ok]) {
    let off;
    do
        off = a + Math.floor(rand() * (b - a));
    while (ok && !ok(off));
    const nb = (q[off] ^ (1 + Math.floor(rand() * 255))) & 0xff;
    return { target: 0, off, del: 1, ins: Buffer.from([nb]), region };
}

function mutateCollateral(rand, text, [region, a, b]) {
    // Hex fields: change one byte (two digits) of what they encode.
    if (/crl$|signature$/.test(region) && !/issuer/.test(region)) {
        const k = a + 2 * Math.floor(rand() * ((b - a) / 2));
        const old = parseInt(text.substr(k, 2), 16);
        const nb = (old ^ (1 + Math.floor(rand() * 255))) & 0xff;
        return { target: 1, off: k, del: 2, ins: Buffer.from(HEX[nb >> 4] + HEX[nb & 15]), region };
    }
    // Text fields: replace one character that is not part of an escape.
    let off;
    do
        off = a + Math.floor(rand() * (b - a));
    while (text[off] === '\\' || text[off - 1] === '\\');
    let ins = PRINTABLE[Math.floor(rand() * PRINTABLE.length)];
    if (rand() < 0.05)
        ins = rand() < 0.5 ? '\\n' : '\\"';
    if (ins === text[off])
        ins = ins === 'A' ? 'B' : 'A';
    return { target: 1, off, del: 1, ins: Buffer.from(ins), region };
}

// ---- mutants.bin --------------------------------------------------------------
function writeBin(file, bases, muts) {
    const parts = [Buffer.from('TDCM1\n')];
    const u32 = (n) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };
    const i64 = (n) => { const b = Buffer.alloc(8); b.writeBigInt64LE(BigInt(n)); return b; };
    const blob = (b) => [u32(b.length), b];
    parts.push(u32(bases.length));
    for (const b of bases)
        parts.push(...blob(b.quote), ...blob(b.collateral), i64(b.now), u32(b.root ? 1 : 0), ...blob(Buffer.from(b.name)));
    parts.push(u32(muts.length));
    for (const m of muts)
        parts.push(u32(m.base), Buffer.from([m.target]), u32(m.off), u32(m.del), ...blob(m.ins), i64(m.now), ...blob(Buffer.from(m.region)));
    fs.writeFileSync(file, Buffer.concat(parts));
}

function readBin(file) {
    const d = fs.readFileSync(file);
    let p = 6;
    const u32 = () => { const v = d.readUInt32LE(p); p += 4; return v; };
    const i64 = () => { const v = Number(d.readBigInt64LE(p)); p += 8; return v; };
    const blob = () => { const n = u32(); const b = d.subarray(p, p + n); p += n; return b; };
    if (d.subarray(0, 6).toString() !== 'TDCM1\n')
        throw new Error(`${file}: not a mutants file`);
    const bases = [];
    for (let n = u32(); n > 0; n--)
        bases.push({ quote: blob(), collateral: blob(), now: i64(), root: u32(), name: blob().toString() });
    const muts = [];
    for (let n = u32(); n > 0; n--) {
        const base = u32(), target = d[p++], off = u32(), del = u32(), ins = blob(), now = i64();
        muts.push({ base, target, off, del, ins, now, region: blob().toString() });
    }
    return { bases, muts };
}

function apply(buf, m) {
    return Buffer.concat([buf.subarray(0, m.off), m.ins, buf.subarray(m.off + m.del)]);
}

// ---- commands -------------------------------------------------------------------
function gen(basesFiles, out, n) {
    // Several files may be given, comma-separated; each file's paths are
    // relative to that file.
    const spec = [];
    for (const f of basesFiles.split(','))
        for (const b of JSON.parse(fs.readFileSync(f, 'utf8')))
            spec.push({ ...b, dir: path.dirname(f) });
    const rel = (f, dir) => (path.isAbsolute(f) ? f : path.join(dir, f));
    const bases = spec.map((b) => ({
        name: b.name,
        quote: fs.readFileSync(rel(b.quote, b.dir)),
        collateral: fs.readFileSync(rel(b.collateral, b.dir)),
        now: Math.floor(Date.parse(b.now) / 1000),
        root: b.root ? rel(b.root, b.dir) : null,
        weight: b.weight || 1,
        times: b.times || 0,
    }));
    const rand = prng(20261207);
    const muts = [];
    // Every base as it is, first.
    bases.forEach((b, i) => muts.push({ base: i, target: 0, off: 0, del: 0, ins: Buffer.alloc(0), now: b.now, region: 'base' }));
    // Times: each window edge of the collateral, one second either side,
    // and times spread over a year around them.
    bases.forEach((b, i) => {
        if (!b.times)
            return;
        const c = JSON.parse(b.collateral.toString());
        const edges = [];
        for (const doc of [JSON.parse(c.tcb_info), JSON.parse(c.qe_identity)])
            edges.push(Date.parse(doc.issueDate) / 1000, Date.parse(doc.nextUpdate) / 1000);
        for (const e of edges)
            for (const d of [-1, 0, 1])
                muts.push({ base: i, target: 0, off: 0, del: 0, ins: Buffer.alloc(0), now: e + d, region: 'time:edge' });
        for (let k = 0; k < b.times; k++)
            muts.push({ base: i, target: 0, off: 0, del: 0, ins: Buffer.alloc(0),
                        now: b.now + Math.floor((rand() - 0.5) * 2 * 86400 * 200), region: 'time:spread' });
    });
    const total = bases.reduce((s, b) => s + b.weight, 0);
    bases.forEach((b, i) => {
        const want = Math.round((n * b.weight) / total);
        const regions = [...quoteRegions(b.quote).map((r) => ['q', r]),
                         ...collateralRegions(b.collateral.toString('latin1')).map((r) => ['c', r])];
        const text = b.collateral.toString('latin1');
        for (let k = 0; k < want; k++) {
            const [t, r] = regions[k % regions.length];
            const m = t === 'q' ? mutateQuote(rand, b.quote, r) : mutateCollateral(rand, text, r);
            muts.push({ base: i, now: b.now, ...m });
        }
    });
    for (const b of bases)
        b.root = b.root ? 1 : 0;
    fs.mkdirSync(out, { recursive: true });
    writeBin(path.join(out, 'mutants.bin'), bases, muts);
    fs.writeFileSync(path.join(out, 'roots.json'), JSON.stringify(spec.map((b) => (b.root ? rel(b.root, b.dir) : null))));
    console.log(`${muts.length} cases (${bases.length} bases) written to ${out}/mutants.bin`);
}

// The reference's verdict: "ok STATUS ADVISORIES" or "fail CLASS MESSAGE".
function refVerdict(verifier, quote, colText, now) {
    let col;
    try {
        col = JSON.parse(colText.toString('utf8'));
    } catch (e) {
        return 'fail collateral_format collateral is not JSON';
    }
    try {
        const r = verifier.verify(quote, col, now);
        return `ok ${r.status} ${[...r.advisory_ids].sort().join(',') || '-'}`;
    } catch (e) {
        return `fail ${classify(e)} ${String(e.message).replace(/\s+/g, ' ').slice(0, 160)}`;
    }
}

function ref(out) {
    const { bases, muts } = readBin(path.join(out, 'mutants.bin'));
    const roots = JSON.parse(fs.readFileSync(path.join(out, 'roots.json'), 'utf8'));
    const verifiers = roots.map((r) => (r ? qvl.QuoteVerifier.newWithRootCa(fs.readFileSync(r)) : qvl.QuoteVerifier.newProd()));
    const lines = [];
    const t0 = Date.now();
    muts.forEach((m, i) => {
        const b = bases[m.base];
        const q = m.target === 0 ? apply(b.quote, m) : b.quote;
        const c = m.target === 1 ? apply(b.collateral, m) : b.collateral;
        lines.push(`${i} ${refVerdict(verifiers[m.base], q, c, m.now)}`);
    });
    fs.writeFileSync(path.join(out, 'ref.txt'), lines.join('\n') + '\n');
    console.log(`dcap-qvl verified ${muts.length} cases in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

function compare(out) {
    const { bases, muts } = readBin(path.join(out, 'mutants.bin'));
    const read = (f) => fs.readFileSync(path.join(out, f), 'utf8').trim().split('\n');
    const refs = read('ref.txt'), ours = read('ours.txt');
    if (refs.length !== muts.length || ours.length !== muts.length) {
        console.log(`FAIL: ${muts.length} cases, ${refs.length} reference verdicts, ${ours.length} rt_dcap verdicts`);
        process.exit(1);
    }
    const key = (line) => {
        const w = line.split(' ');
        return w[1] === 'ok' ? `ok ${w[2]} ${w[3]}` : w[2];
    };
    // The reference's verdict on each unchanged base (the first cases).
    const baseRef = [];
    muts.forEach((m, i) => {
        if (m.region === 'base')
            baseRef[m.base] = key(refs[i]);
    });
    const stats = new Map();
    let agree = 0, expl = 0, bad = 0;
    const byId = {};
    muts.forEach((m, i) => {
        const region = m.region.startsWith('time') ? m.region : m.region;
        const st = stats.get(region) || { n: 0, agree: 0, expl: 0, bad: 0, refClasses: new Map() };
        stats.set(region, st);
        st.n++;
        const a = key(refs[i]), b = key(ours[i]);
        const ca = a.split(' ')[0], cb = b.split(' ')[0];
        st.refClasses.set(ca, (st.refClasses.get(ca) || 0) + 1);
        if (a === b) {
            st.agree++;
            agree++;
            return;
        }
        const id = explained(region, a, b, baseRef[m.base]);
        if (id) {
            st.expl++;
            expl++;
            byId[id] = (byId[id] || 0) + 1;
            return;
        }
        st.bad++;
        bad++;
        if (bad <= 40)
            console.log(`FAIL: case ${i} (${bases[m.base].name}, ${region}, off ${m.off}): dcap-qvl "${refs[i].slice(refs[i].indexOf(' ') + 1)}", rt_dcap "${ours[i].slice(ours[i].indexOf(' ') + 1)}"`);
    });
    for (const [region, st] of [...stats].sort()) {
        const cls = [...st.refClasses].sort((x, y) => y[1] - x[1]).map(([c, k]) => `${c} ${k}`).join(', ');
        console.log(`${region.padEnd(36)} ${String(st.n).padStart(5)} cases, ${String(st.agree).padStart(5)} agree, ${st.expl} explained, ${st.bad} not  [dcap-qvl: ${cls}]`);
    }
    const ids = Object.keys(byId).sort().map((k) => `${k} ${byId[k]}`).join(', ') || 'none';
    console.log(`differential: ${muts.length} cases, ${agree} same verdict, ${expl} explained disagreements (${ids}), ${bad} unexplained`);
    fs.writeFileSync(path.join(out, 'counts'), `${muts.length} ${agree} ${expl} ${bad}\n`);
    process.exit(bad ? 1 : 0);
}

const [cmd, ...args] = process.argv.slice(2);
if (cmd === 'gen')
    gen(args[0], args[1], Number(args[2] || 10000));
else if (cmd === 'ref')
    ref(args[0]);
else if (cmd === 'compare')
    compare(args[0]);
else {
    console.error('usage: diff.js gen BASES.json OUT N | ref OUT | compare OUT');
    process.exit(2);
}

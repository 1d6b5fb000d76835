#!/usr/bin/env node
// The third-party side of the chain tests: ethers (npm, pinned in
// package.json) and Node's own Ed25519 decode and check what toyapp's C code
// wrote, independently of it.  Talks only to the node URL it is given
// (test_chain.sh gives 127.0.0.1).
//
//   ethers_check.js txcheck FILE              transactions and Keccak inputs from
//                                             `chain_driver txgen`: ethers parses each
//                                             signed transaction and must find the same
//                                             hash, sender and fields; keccak256 must agree
//   ethers_check.js count RPC REGISTRY        DeletionRecorded events: {"events", "distinct"}
//   ethers_check.js record RPC REGISTRY ID    the record of receipt ID as ethers decodes it,
//                                             its Ed25519 signature checked by Node's crypto
//                                             over canonical JSON rebuilt here: one JSON line
//   ethers_check.js history RPC REGISTRY      the app registry's transitions, one line each:
//                                             "BLOCK added|removed VERSION HASH TX"
//   ethers_check.js forge RPC REGISTRY KEYFILE ID FROM_ID
//                                             posts, with the key in KEYFILE (which must be
//                                             the registered enclave), the record of FROM_ID
//                                             under receipt ID with one byte of userIdHash
//                                             changed: a tampered record
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { ethers } = require('ethers');

const ART = path.join(__dirname, '..', '..', 'deploy', 'artifacts');
const deletionAbi = require(path.join(ART, 'DeletionRegistry.json')).abi;
const appAbi = require(path.join(ART, 'AppRegistry.json')).abi;

function fail(msg) {
    process.stderr.write(`ethers_check: ${msg}\n`);
    process.exit(1);
}

function provider(url) {
    if (!/^http:\/\/(127\.0\.0\.1|\[::1\]):\d+\/?$/.test(url)) fail(`only a local node is allowed, not ${url}`);
    return new ethers.JsonRpcProvider(url, undefined, { staticNetwork: true, batchMaxCount: 1 });
}

function txcheck(file) {
    const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
    let txs = 0, hashes = 0;
    for (const [i, line] of lines.entries()) {
        const x = JSON.parse(line);
        if (x.kind === 'keccak') {
            const want = ethers.keccak256(x.in);
            if (want !== x.out) fail(`line ${i + 1}: keccak256 ${want}, C wrote ${x.out}`);
            hashes++;
            continue;
        }
        const t = ethers.Transaction.from(x.raw);
        const checks = [
            ['type', t.type, 2],
            ['hash', t.hash, x.hash],
            ['from', t.from, x.from],
            ['chainId', t.chainId.toString(), x.chainId],
            ['nonce', BigInt(t.nonce).toString(), x.nonce],
            ['maxPriorityFeePerGas', t.maxPriorityFeePerGas.toString(), x.maxPriorityFeePerGas],
            ['maxFeePerGas', t.maxFeePerGas.toString(), x.maxFeePerGas],
            ['gasLimit', t.gasLimit.toString(), x.gasLimit],
            ['to', t.to ? t.to.toLowerCase() : null, x.to || null],
            ['value', t.value, BigInt(x.value)],
            ['data', t.data, x.data],
            ['accessList', t.accessList.length, 0],
        ];
        for (const [name, got, want] of checks)
            if (got !== want) fail(`line ${i + 1}: ${name}: ethers ${got}, C wrote ${want}`);
        // The signature is canonical (low s), as ethers itself would make it.
        if (BigInt(t.signature.s) > ethers.N / 2n) fail(`line ${i + 1}: high s`);
        txs++;
    }
    console.log(`${txs} transactions and ${hashes} Keccak-256 digests agree with ethers ${ethers.version}`);
}

async function count(url, registry) {
    const c = new ethers.Contract(registry, deletionAbi, provider(url));
    const logs = await c.queryFilter(c.filters.DeletionRecorded(), 0, 'latest');
    const distinct = new Set(logs.map((l) => l.args.receiptIdHash)).size;
    console.log(JSON.stringify({ events: logs.length, distinct }));
}

// The fields of spec record deletion_attestation, without its signature.
function attestationFields() {
    const spec = fs.readFileSync(path.join(__dirname, '..', '..', 'spec', 'records', 'log.spec'), 'utf8');
    const m = spec.match(/record deletion_attestation \{([^}]*)\}/);
    if (!m) fail('spec/records/log.spec declares no record deletion_attestation');
    return m[1].split('\n').map((l) => l.replace(/#.*/, '').trim().split(/\s+/))
        .filter((w) => w[0] && !w.includes('signature')).map((w) => w[0]);
}

// RFC 8785 for this record: string values only, keys sorted.
function canonical(obj) {
    return '{' + Object.keys(obj).sort().map((k) => JSON.stringify(k) + ':' + JSON.stringify(obj[k])).join(',') + '}';
}

function ed25519Verify(pubHex, msg, sigHex) {
    // An Ed25519 public key as SubjectPublicKeyInfo: the fixed DER prefix, then the key.
    const der = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(pubHex, 'hex')]);
    const key = crypto.createPublicKey({ key: der, format: 'der', type: 'spki' });
    return crypto.verify(null, Buffer.from(msg), key, Buffer.from(sigHex, 'hex'));
}

async function record(url, registry, receiptId) {
    const p = provider(url);
    const c = new ethers.Contract(registry, deletionAbi, p);
    const h = ethers.sha256(ethers.toUtf8Bytes(receiptId));
    const logs = await c.queryFilter(c.filters.DeletionRecorded(h), 0, 'latest');
    if (logs.length !== 1) fail(`${logs.length} records of ${receiptId}`);
    const l = logs[0], a = l.args;
    const tx = await p.getTransaction(l.transactionHash);
    const hex = (b) => b.slice(2);
    const onChain = {
        receiptId,
        composeHash: hex(a.composeHash),
        deletionTimestamp: new Date(Number(a.deletedAt)).toISOString(),
        publicKey: hex(a.publicKey),
        userIdHash: hex(a.userIdHash),
    };
    // The signed fields are the record's in the spec, read here, not assumed.
    const att = {};
    for (const f of attestationFields()) {
        if (!(f in onChain)) fail(`record deletion_attestation has a field ${f} the registry does not carry`);
        att[f] = onChain[f];
    }
    const sig = hex(a.signature[0]) + hex(a.signature[1]);
    console.log(JSON.stringify({
        receiptIdHash: a.receiptIdHash,
        txHash: l.transactionHash,
        blockNumber: l.blockNumber,
        from: tx.from,
        to: tx.to,
        ...onChain,
        signature: sig,
        signatureValid: ed25519Verify(att.publicKey, canonical(att), sig),
    }));
}

async function history(url, registry) {
    const c = new ethers.Contract(registry, appAbi, provider(url));
    const logs = [
        ...(await c.queryFilter(c.filters.ComposeHashAdded(), 0, 'latest')),
        ...(await c.queryFilter(c.filters.ComposeHashRemoved(), 0, 'latest')),
    ].sort((x, y) => x.blockNumber - y.blockNumber || x.index - y.index);
    for (const l of logs)
        console.log(`${l.blockNumber} ${l.eventName === 'ComposeHashAdded' ? 'added' : 'removed'} ${l.args.version} ${l.args.composeHash} ${l.transactionHash}`);
}

async function forge(url, registry, keyFile, id, fromId) {
    const p = provider(url);
    const w = new ethers.Wallet('0x' + fs.readFileSync(keyFile, 'utf8').trim(), p);
    const c = new ethers.Contract(registry, deletionAbi, w);
    const h = ethers.sha256(ethers.toUtf8Bytes(fromId));
    const [l] = await c.queryFilter(c.filters.DeletionRecorded(h), 0, 'latest');
    if (!l) fail(`no record of ${fromId} to copy`);
    const a = l.args;
    const user = ethers.getBytes(a.userIdHash);
    user[0] ^= 1;
    const r = await (await c.record([[ethers.sha256(ethers.toUtf8Bytes(id)), user, a.deletedAt, a.composeHash,
        a.publicKey, [a.signature[0], a.signature[1]]]])).wait();
    console.log(`forged ${id} in block ${r.blockNumber}`);
}

(async () => {
    const [cmd, ...args] = process.argv.slice(2);
    if (cmd === 'txcheck' && args.length === 1) return txcheck(args[0]);
    if (cmd === 'count' && args.length === 2) return count(...args);
    if (cmd === 'record' && args.length === 3) return record(...args);
    if (cmd === 'history' && args.length === 2) return history(...args);
    if (cmd === 'forge' && args.length === 5) return forge(...args);
    fail('usage: txcheck FILE | count RPC REG | record RPC REG ID | history RPC REG | forge RPC REG KEYFILE ID FROM_ID');
})().catch((e) => fail(e.shortMessage || e.message));

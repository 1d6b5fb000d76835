// ipfs_oracle.mjs — the reference side of test_ipfs.sh and test_pull_report.sh:
// what the npm packages multiformats and @ipld/car (pinned in package.json)
// compute for the same inputs as toyctl, so that toyctl's CIDs and CAR
// files are checked against an independent implementation.
//
//   node ipfs_oracle.mjs cid FILE...            one CID per line (CIDv1, raw, sha2-256, base32)
//   node ipfs_oracle.mjs cid-list LIST          the same for the paths in LIST, one a line
//   node ipfs_oracle.mjs write OUT FILE...      a CAR with CarWriter: roots the files' CIDs
//                                               (each once), one block per distinct file
//   node ipfs_oracle.mjs read CAR [FILE...]     reads CAR with CarReader; prints its roots and
//                                               blocks as JSON; checks that each block hashes
//                                               to its CID and, with FILEs, that the roots
//                                               and blocks are exactly the files'
//   node ipfs_oracle.mjs tamper CAR DIR FILE... writes into DIR every copy of CAR with one
//                                               byte changed and every truncation, and checks
//                                               that CarReader or the check above catches each
//   node ipfs_oracle.mjs variety DIR            writes CARs of other codecs, CID versions and
//                                               hash functions, and DIR/manifest.json: what
//                                               a verifier must find in each
//
// Exit status: 0 done and every check passed; 1 a check failed (the
// reason on stderr); 2 usage, or a file could not be read.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256, sha512 } from 'multiformats/hashes/sha2'
import { identity } from 'multiformats/hashes/identity'
import { CarReader, CarWriter } from '@ipld/car'

const hashers = { [sha256.code]: sha256, [sha512.code]: sha512, [identity.code]: identity }

async function rawCid (bytes) {
  return CID.create(1, raw.code, await sha256.digest(bytes))
}

async function carBytes (roots, blocks) {
  const { writer, out } = CarWriter.create(roots)
  const chunks = []
  const collect = (async () => { for await (const c of out) chunks.push(c) })()
  for (const b of blocks) await writer.put(b)
  await writer.close()
  await collect
  return Buffer.concat(chunks)
}

// The blocks of the files: one per distinct content, in order.
async function fileBlocks (files) {
  const seen = new Set()
  const blocks = []
  for (const f of files) {
    const bytes = readFileSync(f)
    const cid = await rawCid(bytes)
    if (seen.has(cid.toString())) continue
    seen.add(cid.toString())
    blocks.push({ cid, bytes })
  }
  return blocks
}

// Reads a CAR; returns { roots, blocks } or throws what CarReader threw.
async function readCar (bytes) {
  const reader = await CarReader.fromBytes(bytes)
  const roots = (await reader.getRoots()).map(String)
  const blocks = []
  for await (const { cid, bytes: data } of reader.blocks()) {
    const h = hashers[cid.multihash.code]
    const digest = h ? (await h.digest(data)).digest : null
    blocks.push({
      cid: cid.toString(),
      size: data.length,
      hash: cid.multihash.code,
      hashOk: digest !== null && Buffer.compare(Buffer.from(digest), Buffer.from(cid.multihash.digest)) === 0,
      bytes: data
    })
  }
  return { roots, blocks }
}

// What is wrong with a read CAR, given the files it should hold; null if nothing.
function mismatch (car, want) {
  for (const b of car.blocks) if (!b.hashOk) return `block ${b.cid} does not hash to its CID`
  const roots = want.map((b) => b.cid.toString())
  if (JSON.stringify(car.roots) !== JSON.stringify(roots)) return `roots ${car.roots} are not ${roots}`
  if (car.blocks.length !== want.length) return `${car.blocks.length} blocks, not ${want.length}`
  for (let i = 0; i < want.length; i++) {
    if (car.blocks[i].cid !== roots[i]) return `block ${i + 1} is ${car.blocks[i].cid}, not ${roots[i]}`
    if (Buffer.compare(Buffer.from(car.blocks[i].bytes), Buffer.from(want[i].bytes)) !== 0) return `block ${i + 1} holds other bytes`
  }
  return null
}

function die (code, msg) {
  process.stderr.write(`ipfs_oracle: ${msg}\n`)
  process.exit(code)
}

const [cmd, ...args] = process.argv.slice(2)

if (cmd === 'cid' || cmd === 'cid-list') {
  const files = cmd === 'cid' ? args : readFileSync(args[0], 'utf8').split('\n').filter(Boolean)
  const out = []
  for (const f of files) out.push((await rawCid(readFileSync(f))).toString())
  process.stdout.write(out.map((c) => c + '\n').join(''))
} else if (cmd === 'write') {
  if (args.length < 2) die(2, 'usage: write OUT FILE...')
  const blocks = await fileBlocks(args.slice(1))
  writeFileSync(args[0], await carBytes(blocks.map((b) => b.cid), blocks))
} else if (cmd === 'read') {
  if (args.length < 1) die(2, 'usage: read CAR [FILE...]')
  let car
  try {
    car = await readCar(readFileSync(args[0]))
  } catch (e) {
    die(1, `CarReader refuses ${args[0]}: ${e.message}`)
  }
  process.stdout.write(JSON.stringify({
    roots: car.roots,
    blocks: car.blocks.map(({ cid, size, hashOk }) => ({ cid, size, hashOk }))
  }) + '\n')
  const bad = args.length > 1
    ? mismatch(car, await fileBlocks(args.slice(1)))
    : car.blocks.filter((b) => !b.hashOk).map((b) => `block ${b.cid} does not hash to its CID`)[0]
  if (bad) die(1, bad)
} else if (cmd === 'tamper') {
  if (args.length < 3) die(2, 'usage: tamper CAR DIR FILE...')
  const orig = readFileSync(args[0])
  const dir = args[1]
  const want = await fileBlocks(args.slice(2))
  mkdirSync(dir, { recursive: true })
  const variants = []
  for (let i = 0; i < orig.length; i++) {
    for (const x of [0x01, 0x80]) {
      const v = Buffer.from(orig)
      v[i] ^= x
      variants.push([`flip-${i}-${x}.car`, v])
    }
  }
  for (let n = 0; n < orig.length; n++) variants.push([`cut-${n}.car`, orig.subarray(0, n)])
  variants.push(['extra-byte.car', Buffer.concat([orig, Buffer.from([0])])])
  const missed = []
  for (const [name, v] of variants) {
    writeFileSync(join(dir, name), v)
    let car = null
    try { car = await readCar(v) } catch { continue } // the reader caught it
    if (!mismatch(car, want)) missed.push(name)
  }
  process.stdout.write(`${variants.length} variants, ${missed.length} undetected\n`)
  if (missed.length) die(1, `undetected: ${missed.join(' ')}`)
} else if (cmd === 'variety') {
  if (args.length !== 1) die(2, 'usage: variety DIR')
  const dir = args[0]
  mkdirSync(dir, { recursive: true })
  const te = new TextEncoder()
  const block = async (version, codec, hasher, bytes) => ({ cid: CID.create(version, codec, await hasher.digest(bytes)), bytes })
  const big = new Uint8Array(70000).map((_, i) => (i * 7 + 3) & 255)
  const b = {
    raw: await block(1, raw.code, sha256, te.encode('a raw block')),
    empty: await block(1, raw.code, sha256, new Uint8Array(0)),
    cbor: await block(1, 0x71, sha256, Uint8Array.from([0xa1, 0x61, 0x61, 0x01])), // dag-cbor {a: 1}
    json: await block(1, 0x0129, sha256, te.encode('{"a":1}')), // dag-json: a 2-byte codec varint
    v0: await block(0, 0x70, sha256, Uint8Array.from([0x0a, 0x02, 0x08, 0x01])), // CIDv0 (dag-pb)
    big: await block(1, raw.code, sha256, big), // a 3-byte section length
    sha512: await block(1, raw.code, sha512, te.encode('sha2-512')),
    forged: { cid: (await block(1, raw.code, sha256, te.encode('the block named'))).cid, bytes: te.encode('other bytes') }
  }
  // identity CIDs of every digest length from 0 to 40: CIDs of 4 to 44
  // bytes, so their base32 text ends in every possible way.
  const ids = []
  for (let n = 0; n <= 40; n++) ids.push(await block(1, raw.code, identity, new Uint8Array(n).map((_, i) => (i * 31 + n) & 255)))
  const cases = [
    ['mixed', [b.raw, b.cbor, b.v0], [b.raw, b.empty, b.cbor, b.json, b.v0, b.big]],
    ['no-roots', [], [b.raw, b.cbor]],
    ['no-blocks', [], []],
    ['v0-root', [b.v0], [b.v0]],
    ['missing-root', [b.raw, b.json], [b.raw]],
    ['sha512', [b.sha512], [b.sha512]],
    ['forged', [b.forged], [b.raw, b.forged]],
    ['repeated', [b.raw], [b.raw, b.cbor, b.raw]],
    ['identity', [ids[0], ids[40]], ids]
  ]
  const manifest = []
  for (const [name, roots, blocks] of cases) {
    const file = `${name}.car`
    writeFileSync(join(dir, file), await carBytes(roots.map((x) => x.cid), blocks))
    const car = await readCar(readFileSync(join(dir, file)))
    const have = new Set(car.blocks.map((x) => x.cid))
    const checks = car.blocks.map((x) => ({ cid: x.cid, checkable: x.hash === sha256.code, ok: x.hash === sha256.code && x.hashOk }))
    manifest.push({
      file,
      roots: car.roots.map((r) => ({ cid: r, present: have.has(r) })),
      blocks: checks,
      // What toyctl verify-car must conclude: every block checked and
      // matching, every root present.
      valid: checks.every((c) => c.ok) && car.roots.every((r) => have.has(r))
    })
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 1) + '\n')
} else {
  die(2, 'usage: cid|cid-list|write|read|tamper|variety ... (see the header of this file)')
}

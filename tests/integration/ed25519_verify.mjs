// ed25519_verify.mjs — Ed25519 signature checks for the Python integration
// tests (Python's standard library has none), with Node's crypto: one JSON
// line {"pub": hex, "sig": hex, "msg": hex} in, one line "1" or "0" out.
import { createPublicKey, verify } from 'node:crypto';
import readline from 'node:readline';

// SubjectPublicKeyInfo of an Ed25519 key: this prefix, then the 32 bytes.
const SPKI = Buffer.from('302a300506032b6570032100', 'hex');
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  let ok = false;
  try {
    const { pub, sig, msg } = JSON.parse(line);
    const key = createPublicKey({ key: Buffer.concat([SPKI, Buffer.from(pub, 'hex')]), format: 'der', type: 'spki' });
    ok = verify(null, Buffer.from(msg, 'hex'), key, Buffer.from(sig, 'hex'));
  } catch (e) {
    ok = false;
  }
  process.stdout.write(ok ? '1\n' : '0\n');
});

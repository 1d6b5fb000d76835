// bench_dcap.js - @phala/dcap-qvl's side of the verify-quote benchmark:
//   node bench/bench_dcap.js QUOTE COLLATERAL TIME N
// verifies the quote N times in this process (after 50 warm-up runs) and
// prints "dcap-qvl: X ms per verification (N runs, status S)".
'use strict';
const fs = require('fs');
const path = require('path');
const { verify } = require(path.resolve(__dirname, '../node_modules/@phala/dcap-qvl/src/verify.js'));
const [q, c, t, n] = process.argv.slice(2);
const quote = fs.readFileSync(q), text = fs.readFileSync(c, 'utf8'), now = Date.parse(t) / 1000;
const runs = Number(n);
let status;
// The collateral is parsed each time, as rt_dcap parses its JSON each time.
for (let i = 0; i < 50; i++)
    status = verify(quote, JSON.parse(text), now).status;
const t0 = process.hrtime.bigint();
for (let i = 0; i < runs; i++)
    status = verify(quote, JSON.parse(text), now).status;
const ms = Number(process.hrtime.bigint() - t0) / 1e6 / runs;
console.log(`dcap-qvl: ${ms.toFixed(3)} ms per verification (${runs} runs, status ${status})`);

#!/usr/bin/env node
// An HTTPS front for a local node, for the test of rt_rpc's TLS: listens on
// 127.0.0.1:PORT with CERT and KEY (PEM) and forwards each request to
// TARGET (an http://127.0.0.1 URL).  Prints "listening" when ready.
//   tls_proxy.js PORT CERT KEY TARGET
'use strict';
const fs = require('fs');
const http = require('http');
const https = require('https');

const [port, cert, key, target] = process.argv.slice(2);
if (!target || !/^http:\/\/127\.0\.0\.1:\d+\/?$/.test(target)) {
    process.stderr.write('usage: tls_proxy.js PORT CERT KEY http://127.0.0.1:PORT\n');
    process.exit(2);
}
https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, (req, res) => {
    const up = http.request(target, { method: req.method, headers: { 'content-type': 'application/json' } }, (r) => {
        res.writeHead(r.statusCode, { 'content-type': 'application/json' });
        r.pipe(res);
    });
    up.on('error', () => { res.writeHead(502); res.end(); });
    req.pipe(up);
}).listen(Number(port), '127.0.0.1', () => console.log('listening'));

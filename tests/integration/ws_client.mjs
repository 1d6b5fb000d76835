// ws_client.mjs — a real WebSocket client (the pinned `ws` package) for the
// integration tests: connects to URL and prints one JSON line per event on
// stdout, each with the time it happened (ms since the epoch):
//   {"t":..., "open": true}
//   {"t":..., "msg": "<the frame's text>"}
//   {"t":..., "close": CODE, "reason": "..."}
//   {"t":..., "error": "..."}
// Lines on stdin: "close CODE REASON" closes the connection; "ping" pings.
// Usage: node ws_client.mjs URL [ORIGIN]
import WebSocket from 'ws';
import readline from 'node:readline';

const [url, origin] = process.argv.slice(2);
const out = (o) => process.stdout.write(JSON.stringify(Object.assign({ t: Date.now() }, o)) + '\n');
const ws = new WebSocket(url, origin ? { origin } : {});
ws.on('open', () => out({ open: true }));
ws.on('message', (data, isBinary) => out(isBinary ? { binary: data.length } : { msg: data.toString('utf8') }));
ws.on('pong', (data) => out({ pong: data.toString('utf8') }));
ws.on('unexpected-response', (req, res) => { out({ status: res.statusCode }); process.exit(0); });
ws.on('error', (e) => out({ error: e.message }));
ws.on('close', (code, reason) => { out({ close: code, reason: reason.toString('utf8') }); process.exit(0); });
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const [cmd, code, ...rest] = line.split(' ');
  if (cmd === 'close') ws.close(Number(code), rest.join(' '));
  else if (cmd === 'ping') ws.ping(code || '');
  else if (cmd === 'send') ws.send(rest.join(' '));
});

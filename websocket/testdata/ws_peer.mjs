// Node's `ws` (tools/peers) as a client of mote's WebSocket echo server, on
// loopback only: node ws_peer.mjs ws://127.0.0.1:PORT/ {deflate|none}
// Checks every echo, pings, closes with 4001 "done"; prints "ok".
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../tools/peers/package.json'));
const WebSocket = require('ws');

const [url, mode] = process.argv.slice(2);
const ws = new WebSocket(url, ['mote'], { perMessageDeflate: mode === 'deflate' });
const fail = (why) => { console.error(why); process.exit(1); };
setTimeout(() => fail('timed out'), 10000).unref();

const script = [
  { data: 'Hello from ws', binary: false },
  { data: Buffer.alloc(100000, 7), binary: true },
  { data: 'ü€😀'.repeat(1000), binary: false },
];
let step = 0;
const sendNext = () => {
  if (step < script.length) {
    ws.send(script[step].data, { binary: script[step].binary, fin: true });
  } else {
    ws.ping(Buffer.from('node-ping'));
  }
};
ws.on('open', () => {
  console.log('extensions:', ws.extensions, 'protocol:', ws.protocol);
  sendNext();
});
ws.on('message', (data, isBinary) => {
  const want = script[step];
  const got = isBinary ? data : data.toString();
  const same = isBinary ? Buffer.compare(got, want.data) === 0 : got === want.data;
  if (!same || isBinary !== want.binary) fail(`echo ${step} differs`);
  step += 1;
  sendNext();
});
ws.on('pong', (data) => {
  if (data.toString() !== 'node-ping') fail('pong payload differs');
  ws.close(4001, 'done');
});
ws.on('close', (code, reason) => {
  console.log(`closed ${code} ${reason}`);
  if (code !== 4001) fail('unexpected close code');
  console.log('ok');
  process.exit(0);
});
ws.on('error', (error) => fail(`error: ${error.message}`));

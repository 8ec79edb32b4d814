// node-coap (tools/peers) as a peer for coap/interop_test.cpp. Loopback only.
//   node node_peer.js get coap://127.0.0.1:PORT/path   prints "<code> <payload>"
//   node node_peer.js observe coap://127.0.0.1:PORT/path COUNT
//                                                    prints each notification's payload
//   node node_peer.js serve PORT                       serves /hello, prints "listening"
'use strict';
const coap = require('coap');

const [mode, arg, extra] = process.argv.slice(2);
const bail = setTimeout(() => { console.error('timed out'); process.exit(2); }, 10000);

if (mode === 'get' || mode === 'observe') {
  const url = new URL(arg);
  const request = coap.request({
    hostname: url.hostname, port: Number(url.port), pathname: url.pathname,
    method: 'GET', observe: mode === 'observe',
  });
  request.on('response', (response) => {
    if (mode === 'get') {
      console.log(`${response.code} ${response.payload.toString()}`);
      clearTimeout(bail);
      process.exit(0);
    }
    let left = Number(extra);
    const show = (chunk) => {
      console.log(chunk.toString());
      if (--left === 0) {
        response.close();
        clearTimeout(bail);
        setTimeout(() => process.exit(0), 200);
      }
    };
    response.on('data', show);
  });
  request.on('error', (error) => { console.error(String(error)); process.exit(1); });
  request.end();
} else if (mode === 'serve') {
  const server = coap.createServer((request, response) => {
    if (request.url === '/hello') {
      response.setOption('Content-Format', 'text/plain');
      response.end('hello from node-coap');
    } else {
      response.code = '4.04';
      response.end();
    }
  });
  clearTimeout(bail);
  server.listen(Number(arg), '127.0.0.1', () => console.log('listening'));
} else {
  console.error('usage: node_peer.js get|observe|serve ...');
  process.exit(64);
}

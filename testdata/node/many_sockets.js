// Holds N loopback TCP sockets (N/2 connections, both ends in this process); with a second
// argument K, K of the server ends are left in CLOSE_WAIT. Used by scripts/bench.sh.
'use strict';
const net = require('net');
const { ready } = require('./ready');
const N = Number(process.argv[2] || 16000);
const K = Number(process.argv[3] || 0);
const pairs = Math.floor(N / 2);
const server = net.createServer({ allowHalfOpen: true }, (s) => { s.on('data', () => {}); });
server.listen(0, '127.0.0.1', 511, async () => {
  const port = server.address().port;
  const clients = [];
  for (let i = 0; i < pairs; i++) {
    await new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1', resolve);
      c.on('error', (e) => { console.error(e.message); resolve(); });
      clients.push(c);
    });
  }
  for (let i = 0; i < K && i < clients.length; i++) clients[i].end();
  setTimeout(() => ready({ port, sockets: N }), 500);
});
setTimeout(() => process.exit(0), 30 * 60 * 1000).unref();

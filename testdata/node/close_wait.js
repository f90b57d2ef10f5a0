// A server that never ends sockets after the peer's FIN: N sockets in CLOSE_WAIT.
'use strict';
const net = require('net');
const { ready, watchdog } = require('./ready');
watchdog();
const N = Number(process.argv[2] || 20);
let ended = 0;
const server = net.createServer({ allowHalfOpen: true }, (s) => {
  s.on('data', () => {});
  s.on('end', () => { if (++ended === N) setTimeout(() => ready({ port: server.address().port, count: N }), 100); });
});
server.listen(0, '127.0.0.1', () => {
  for (let i = 0; i < N; i++) {
    const c = net.connect(server.address().port, '127.0.0.1', () => c.end());
    c.on('error', () => {});
  }
});

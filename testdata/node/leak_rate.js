// Leaks R sockets per second (connections it never closes), for watch's FD_GROWTH test.
'use strict';
const net = require('net');
const { ready, watchdog } = require('./ready');
watchdog();
const R = Number(process.argv[2] || 10);
const held = [];
const server = net.createServer((s) => held.push(s));
server.listen(0, '127.0.0.1', () => {
  const port = server.address().port;
  setInterval(() => {
    const c = net.connect(port, '127.0.0.1');
    c.on('error', () => {});
    held.push(c);
  }, 1000 / R);
  ready({ port, rate: R * 2 });
});

// Blocks its main thread in Atomics.wait (a futex) right after the ready line, for
// argv[2] seconds (default: until killed).
'use strict';
const net = require('net');
const { ready, watchdog } = require('./ready');
watchdog();
const seconds = Number(process.argv[2] || 0);
const server = net.createServer(() => {});
server.listen(0, '127.0.0.1', () => {
  ready({ port: server.address().port });
  const cell = new Int32Array(new SharedArrayBuffer(4));
  Atomics.wait(cell, 0, 0, seconds > 0 ? seconds * 1000 : Infinity);
});

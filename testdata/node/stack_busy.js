// An HTTP-less server whose main thread spends argv[2] ms of every argv[3] ms in
// renderReport (stack_work.js:6); argv[2] = 0 spins forever (a blocked loop). A TCP
// server on an ephemeral port answers "pong" to prove the process is alive and unpaused.
'use strict';
const net = require('net');
const { ready, watchdog } = require('./ready');
const { renderReport } = require('./stack_work');
watchdog();
const busy = Number(process.argv[2] || 0);
const every = Number(process.argv[3] || 0);
const server = net.createServer((s) => { s.end('pong\n'); });
server.listen(0, '127.0.0.1', () => {
  ready({ port: server.address().port });
  if (busy === 0) {
    setImmediate(function tick() { renderReport(10 * 60 * 1000); });
  } else {
    setInterval(function onTimer() { renderReport(busy); }, every);
  }
});

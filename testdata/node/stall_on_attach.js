// Stalls its event loop in native code (a synchronous child process, which no V8
// interrupt can break) for argv[2] seconds (default 4) as soon as its inspector opens: the
// attach that opened it gets no answer until the stall ends.
'use strict';
const net = require('net');
const inspector = require('inspector');
const { execFileSync } = require('child_process');
const { ready, watchdog } = require('./ready');
watchdog();
const seconds = String(Number(process.argv[2] || 4));
const server = net.createServer(() => {});
let stalled = false;
setInterval(() => {
  if (!stalled && inspector.url()) {
    stalled = true;
    execFileSync('sleep', [seconds]);
  }
}, 2);
server.listen(0, '127.0.0.1', () => ready({ port: server.address().port }));

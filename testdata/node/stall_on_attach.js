// Stalls its event loop for argv[2] seconds (default 4) as soon as its inspector opens:
// argv[3] "sleep" (default) stalls in a synchronous child process, native code no V8
// interrupt can break; "atomics" stalls in Atomics.wait on the main thread.
'use strict';
const net = require('net');
const inspector = require('inspector');
const { execFileSync } = require('child_process');
const { ready, watchdog } = require('./ready');
watchdog();
const seconds = Number(process.argv[2] || 4);
const how = process.argv[3] || 'sleep';
const server = net.createServer(() => {});
let stalled = false;
setInterval(() => {
  if (!stalled && inspector.url()) {
    stalled = true;
    if (how === 'atomics') {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, seconds * 1000);
    } else {
      execFileSync('sleep', [String(seconds)]);
    }
  }
}, 2);
server.listen(0, '127.0.0.1', () => ready({ port: server.address().port }));

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
// The stall must begin before nodeinspect's first message can be answered: the inspector's
// messages are also served through V8 interrupts while JavaScript runs, so the JavaScript
// that precedes the blocking call (execFileSync's argument handling) is made short by
// running it once now, and the inspector is looked for every millisecond.
if (how !== 'atomics') execFileSync('true');
setInterval(() => {
  if (!stalled && inspector.url()) {
    stalled = true;
    if (how === 'atomics') {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, seconds * 1000);
    } else {
      execFileSync('sleep', [String(seconds)]);
    }
  }
}, 1);
server.listen(0, '127.0.0.1', () => ready({ port: server.address().port }));

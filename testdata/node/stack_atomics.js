// Waits in Atomics.wait inside a named function (waitForLock, line 8) right after the
// ready line, until killed.
'use strict';
const net = require('net');
const { ready, watchdog } = require('./ready');
watchdog();
function waitForLock(cell) {
  Atomics.wait(cell, 0, 0);
}
const server = net.createServer(() => {});
server.listen(0, '127.0.0.1', () => {
  ready({ port: server.address().port });
  waitForLock(new Int32Array(new SharedArrayBuffer(4)));
});

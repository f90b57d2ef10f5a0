// The bundled leaky demo of `make demo`: one Node.js server with several real problems at
// once. It prints one JSON line when they are all in place, then blocks its own event loop.
//  - CLOSE_WAIT leak: a server created with allowHalfOpen never ends sockets the peer closed.
//  - a deleted log file still open, holding its disk space.
//  - zombies: children exit while the event loop is blocked, so libuv never reaps them.
//  - a blocked event loop (Atomics.wait on the main thread).
// It never runs longer than 10 minutes.
'use strict';
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');

const LEAKS = 30;
const server = net.createServer({ allowHalfOpen: true }, (socket) => {
  socket.on('data', () => {});
  // The bug: no socket.end() on 'end', so each closed peer leaves a CLOSE_WAIT socket.
  socket.on('end', () => { ended++; if (ended === LEAKS) afterLeaks(); });
});
let ended = 0;
const clients = [];

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  for (let i = 0; i < LEAKS; i++) {
    const c = net.connect(port, '127.0.0.1', () => c.end());
    c.on('data', () => {});
    c.on('error', () => {});
    clients.push(c);
  }
});

function afterLeaks() {
  const log = path.join(os.tmpdir(), `nodeinspect-demo-${process.pid}.log`);
  fs.writeFileSync(log, Buffer.alloc(8 << 20, 'x'));
  global.logFd = fs.openSync(log, 'a');
  fs.unlinkSync(log); // "rotated" while still open

  const children = [];
  for (let i = 0; i < 3; i++) children.push(spawn('true').pid);

  const wait = new Int32Array(new SharedArrayBuffer(4));
  Atomics.wait(wait, 0, 0, 300); // let the children exit: nobody reaps them now
  fs.writeSync(1, JSON.stringify({ ready: true, pid: process.pid, port: server.address().port, children, expect: { close_wait: LEAKS, zombies: 3, deleted_bytes: 8 << 20 } }) + '\n');
  Atomics.wait(wait, 0, 0, 10 * 60 * 1000); // the blocked event loop
  process.exit(0);
}

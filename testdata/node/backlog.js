// A server whose event loop is blocked right after listen: M clients from a child process
// connect and wait in the accept queue. The child prints the ready line (on the shared
// stdout) once all M are connected, since the blocked server cannot.
'use strict';
const net = require('net');
const { spawn } = require('child_process');
const M = Number(process.argv[2] || 5);
const server = net.createServer(() => {});
server.listen(0, '127.0.0.1', 128, () => {
  const port = server.address().port;
  spawn(process.execPath, ['-e', `
    const net = require('net'); let n = 0;
    for (let i = 0; i < ${M}; i++) net.connect(${port}, '127.0.0.1', () => {
      if (++n === ${M}) console.log(JSON.stringify({ ready: true, pid: ${process.pid}, port: ${port}, children: [process.pid] }));
    }).on('error', () => {});
    setTimeout(() => {}, 10 * 60 * 1000);`], { stdio: ['ignore', 'inherit', 'ignore'] });
  const cell = new Int32Array(new SharedArrayBuffer(4));
  Atomics.wait(cell, 0, 0, 10 * 60 * 1000);
});

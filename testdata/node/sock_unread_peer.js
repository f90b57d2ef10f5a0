// A server whose peers never read: each client (in a child process) connects and pauses,
// and the server writes more than the client's receive buffer holds. The server's send
// queues fill and stay full. Args: N clients (default 8).
'use strict';
const net = require('net');
const { spawn } = require('child_process');
const { ready, watchdog } = require('./ready');
watchdog();
const N = Number(process.argv[2] || 8);
const chunk = Buffer.alloc(8 << 20, 121);
let blocked = 0;
const server = net.createServer((s) => {
  s.on('error', () => {});
  // write() returns false once the kernel's send buffer and ours are full: the peer is not
  // reading. Ready when every connection got there.
  if (!s.write(chunk) && ++blocked === N) {
    setTimeout(() => ready({ port: server.address().port, count: N, children: [clients.pid] }), 200);
  }
});
let clients;
server.listen(0, '127.0.0.1', () => {
  clients = spawn(process.execPath, ['-e', `
    const net = require('net');
    for (let i = 0; i < ${N}; i++) net.connect(${server.address().port}, '127.0.0.1').pause().on('error', () => {});
    setTimeout(() => {}, 10 * 60 * 1000);`], { stdio: 'ignore' });
});

// A gateway that never consumes upstream response bodies. The upstream (a child process,
// so the gateway's fd table holds only the gateway's own sockets) answers each request with
// a body bigger than what Node reads from the socket before the unread response pauses it
// (one 64 KiB read), then closes the connection. The rest of each body, and the upstream's
// FIN, stay in the gateway's receive queues: ESTABLISHED → CLOSE_WAIT with data unread.
// Args: N connections (default 12), body size in bytes (default 160 KiB).
'use strict';
const http = require('http');
const { spawn } = require('child_process');
const { ready, watchdog } = require('./ready');
watchdog();
const N = Number(process.argv[2] || 12);
const BODY = Number(process.argv[3] || 160 * 1024);

const upstream = spawn(process.execPath, ['-e', `
  const http = require('http');
  const body = Buffer.alloc(${BODY}, 120);
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-length': body.length, connection: 'close' });
    res.end(body);
  });
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  setTimeout(() => {}, 10 * 60 * 1000);`], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });

const kept = [];
upstream.on('message', ({ port }) => {
  let answered = 0;
  for (let i = 0; i < N; i++) {
    http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      kept.push(res); // never read, never resumed, never destroyed
      if (++answered === N) {
        ready({ upstream_port: port, count: N, children: [upstream.pid] });
      }
    }).on('error', () => {});
  }
});

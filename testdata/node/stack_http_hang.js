// An HTTP server whose routes never answer (a handler waiting forever on something) and
// that keeps a socket half-open when the client sends FIN with a request in flight
// (httpAllowHalfOpen): each such client leaves a socket in CLOSE_WAIT. GET /ping answers
// at once, to prove the process is alive and not paused. POST /stuck never reads its body:
// once the request stream's buffer is full the socket is paused and the rest of the body
// waits in the kernel's receive queue (STALLED_SOCKETS).
'use strict';
const http = require('http');
const { ready, watchdog } = require('./ready');
watchdog();
const server = http.createServer((req, res) => {
  if (req.url === '/ping') { res.end('pong\n'); return; }
  if (req.url.startsWith('/stuck')) return; // never read the body, never answer
  req.resume(); // read the body, never answer
});
server.httpAllowHalfOpen = true;
server.listen(0, '127.0.0.1', () => ready({ port: server.address().port }));

// An HTTP server whose routes never answer (a handler waiting forever on something) and
// that keeps a socket half-open when the client sends FIN with a request in flight
// (httpAllowHalfOpen): each such client leaves a socket in CLOSE_WAIT. GET /ping answers
// at once, to prove the process is alive and not paused.
'use strict';
const http = require('http');
const { ready, watchdog } = require('./ready');
watchdog();
const server = http.createServer((req, res) => {
  if (req.url === '/ping') { res.end('pong\n'); return; }
  req.resume(); // read the body, never answer
});
server.httpAllowHalfOpen = true;
server.listen(0, '127.0.0.1', () => ready({ port: server.address().port }));

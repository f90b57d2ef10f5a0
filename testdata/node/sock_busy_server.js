// An HTTP server that answers every request with a 32 KiB body (so its send queues are
// caught non-empty), for a load generator in the test: its queues fill and drain all the
// time, and none of them stalls.
'use strict';
const http = require('http');
const { ready, watchdog } = require('./ready');
watchdog();
const body = Buffer.alloc(32 * 1024, 122);
const server = http.createServer((req, res) => {
  req.resume();
  res.end(body);
});
server.listen(0, '127.0.0.1', () => ready({ port: server.address().port }));

// A plain `http` server for the event-loop verdict tests. GET / answers "ok". GET
// /cpu?ms=N holds the main thread in a synchronous CPU task for N ms: it first writes the
// file named by argv[2] + ".start" (so a test knows the task runs), spins, then writes
// argv[2] + ".end" before answering. GET /alloc?ms=N does the same while allocating (so the
// garbage collector runs during the task).
'use strict';
const http = require('http');
const fs = require('fs');
const { ready, watchdog } = require('./ready');
watchdog();
const marker = process.argv[2] || '';
const mark = (suffix) => { if (marker) fs.writeFileSync(marker + suffix, String(Date.now())); };
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const ms = Number(url.searchParams.get('ms') || 0);
  if (url.pathname === '/cpu' || url.pathname === '/alloc') {
    mark('.start');
    const end = Date.now() + ms;
    let keep = [];
    while (Date.now() < end) {
      if (url.pathname === '/alloc') {
        keep.push({ a: Math.random(), b: 'x'.repeat(64) });
        if (keep.length > 100000) keep = [];
      }
    }
    mark('.end');
  }
  res.end('ok');
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => ready({ port: server.address().port }));
process.on('SIGTERM', () => server.close(() => process.exit(0)));

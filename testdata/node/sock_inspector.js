// An HTTP server, optionally with the inspector (node flags or NODE_OPTIONS decide). It
// writes the inspector's port, once the inspector listens (at start or after SIGUSR1), to
// the file given as first argument. Second argument: a process.title to set.
'use strict';
const http = require('http');
const fs = require('fs');
const inspector = require('inspector');
const { ready, watchdog } = require('./ready');
watchdog();
const portFile = process.argv[2];
if (process.argv[3]) process.title = process.argv[3];
const server = http.createServer((req, res) => res.end('ok'));
server.listen(0, '0.0.0.0', () => {
  const url = inspector.url();
  ready({ port: server.address().port, inspector: url || null });
  const poll = setInterval(() => {
    const u = inspector.url();
    if (u && portFile) {
      fs.writeFileSync(portFile + '.tmp', String(new URL(u).port));
      fs.renameSync(portFile + '.tmp', portFile);
      clearInterval(poll);
    }
  }, 20);
});

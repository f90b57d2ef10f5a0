// A healthy HTTP server with a handful of keep-alive clients making requests.
'use strict';
const http = require('http');
const { ready, watchdog } = require('./ready');
watchdog();
const server = http.createServer((req, res) => res.end('ok'));
server.listen(0, '127.0.0.1', () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const port = server.address().port;
  const tick = () => {
    for (let i = 0; i < 4; i++) {
      http.get({ host: '127.0.0.1', port, agent, path: '/' }, (res) => res.resume()).on('error', () => {});
    }
  };
  tick();
  setInterval(tick, 100);
  setTimeout(() => ready({ port }), 300);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));

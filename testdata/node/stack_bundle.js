'use strict';
// A TypeScript-style bundle: generated from stack_src/report.ts (see its map). Its main
// thread spins in renderReport, which the map places at stack_src/report.ts:42.
const { ready, watchdog } = require('./ready');
watchdog();
function renderReport(ms) {
  const end = Date.now() + ms;
  let n = 0;
  while (Date.now() < end) { n++; }
  return n;
}
const net = require('net');
const server = net.createServer((s) => { s.end('pong\n'); });
server.listen(0, '127.0.0.1', () => { ready({ port: server.address().port }); setImmediate(function main() { renderReport(600000); }); });
//# sourceMappingURL=stack_bundle.js.map

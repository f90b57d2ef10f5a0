// A TCP server that never reads or closes what it accepts, on a saturated loop (every turn
// 20 ms of synchronous work, then the next with setImmediate: its main thread is almost
// never seen waiting in epoll). Each connection it accepts is counted in the file given as
// first argument, so a test sees whether anything (nodeinspect's /json/version probe) ever
// connected to the app's own server.
'use strict';
const fs = require('fs');
const net = require('net');
const { ready, watchdog } = require('./ready');
watchdog();
const countFile = process.argv[2];
let accepted = 0;
const server = net.createServer(() => {
  accepted++;
  fs.writeFileSync(countFile + '.tmp', String(accepted));
  fs.renameSync(countFile + '.tmp', countFile);
});
const turn = () => {
  const end = Date.now() + 20;
  while (Date.now() < end) { /* work */ }
  setImmediate(turn);
};
server.listen(0, '127.0.0.1', () => {
  ready({ port: server.address().port });
  setImmediate(turn);
});

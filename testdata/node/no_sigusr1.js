// An idle server whose SIGUSR1 is back to the default action (terminate), as with
// --disable-sigusr1 on Node.js 22.14+: libuv restores SIG_DFL when the last listener goes.
'use strict';
const net = require('net');
const { ready, watchdog } = require('./ready');
watchdog();
const noop = () => {};
process.on('SIGUSR1', noop);
process.removeListener('SIGUSR1', noop);
const server = net.createServer(() => {});
server.listen(0, '127.0.0.1', () => setTimeout(() => ready({ port: server.address().port }), 50));

// An idle server (used with --inspect and process.title).
'use strict';
const net = require('net');
const { ready, watchdog } = require('./ready');
watchdog();
if (process.argv[2]) process.title = process.argv[2];
const server = net.createServer(() => {});
server.listen(0, '127.0.0.1', () => setTimeout(() => ready({ port: server.address().port }), 100));

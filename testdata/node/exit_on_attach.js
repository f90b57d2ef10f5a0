// Exits as soon as its inspector opens: the process an attach was talking to is gone.
'use strict';
const net = require('net');
const inspector = require('inspector');
const { ready, watchdog } = require('./ready');
watchdog();
setInterval(() => { if (inspector.url()) process.exit(0); }, 1);
const server = net.createServer(() => {});
server.listen(0, '127.0.0.1', () => ready({ port: server.address().port }));

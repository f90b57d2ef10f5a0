// Makes garbage at a steady pace and keeps none of it: the V8 heap used rises and falls
// with each GC (a sawtooth) around a flat baseline. Not a leak.
'use strict';
const net = require('net');
const { ready, watchdog } = require('./ready');
watchdog();
let sink = null;
setInterval(() => {
  const garbage = [];
  for (let i = 0; i < 20000; i++) garbage.push({ i, s: 'x' + i });
  sink = garbage; // dropped at the next tick
}, 20);
const server = net.createServer(() => {});
server.listen(0, '127.0.0.1', () => ready({ port: server.address().port }));

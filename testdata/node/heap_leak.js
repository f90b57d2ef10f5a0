// Retains about argv[2] MiB per second (default 4) of small objects in a global array: the
// V8 heap used grows steadily under its GC sawtooth.
'use strict';
const net = require('net');
const { ready, watchdog } = require('./ready');
watchdog();
const perSecond = Number(process.argv[2] || 4);
const kept = [];
setInterval(() => {
  // ~50 bytes an object: 1 MiB is about 20000 objects; 20 ticks a second.
  const n = Math.round((perSecond * 20000) / 20);
  for (let i = 0; i < n; i++) kept.push({ i, s: 'leak' + i });
}, 50);
// Some garbage too, so the sawtooth is there.
setInterval(() => { const g = []; for (let i = 0; i < 5000; i++) g.push({ i }); }, 20);
const server = net.createServer(() => {});
server.listen(0, '127.0.0.1', () => ready({ port: server.address().port, kept: kept.length }));

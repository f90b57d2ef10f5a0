// Holds argv[2] MiB of Buffers, every page written so it is resident (and charged to the
// memory cgroup), then waits. The ready line carries process.memoryUsage().
'use strict';
const { ready, watchdog } = require('./ready');
watchdog();
const mib = Number(process.argv[2] || 100);
const held = [];
for (let i = 0; i < mib; i++) held.push(Buffer.alloc(1 << 20, (i & 0xff) | 1));
const m = process.memoryUsage();
ready({ held: held.length, rss: m.rss, heapTotal: m.heapTotal });
setInterval(() => held.length, 60 * 1000);

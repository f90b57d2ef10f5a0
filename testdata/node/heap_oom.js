// Fills the V8 heap with argv[2] MiB of retained objects (a large working set), prints the
// ready line, then retains argv[3] MiB per second more until V8 dies of "JavaScript heap
// out of memory". Run with --max-old-space-size and --report-on-fatalerror.
'use strict';
const { ready, watchdog } = require('./ready');
watchdog();
const prefillMiB = Number(process.argv[2] || 0);
const perSecond = Number(process.argv[3] || 4);
const kept = [];
// An array of 1000 small integers is about 8 KiB in the old generation.
for (let i = 0; i < prefillMiB * 128; i++) kept.push(new Array(1000).fill(i));
const v8 = require('v8');
const h = v8.getHeapStatistics();
ready({ heapUsed: process.memoryUsage().heapUsed, heapLimit: h.heap_size_limit });
// 50 ticks a second; ~50 bytes an object, so 1 MiB is about 20000 objects.
setInterval(() => {
  const n = Math.round((perSecond * 20000) / 50);
  for (let i = 0; i < n; i++) kept.push({ i, s: 'leak' + i });
}, 20);

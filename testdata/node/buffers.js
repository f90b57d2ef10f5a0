// Holds argv[2] MiB (default 400) of Buffers outside the V8 heap, written so the pages are
// resident, and reports its own view of memory in the ready line. With argv[3], every later
// call of process.memoryUsage() (an attach's query makes one) also writes what it returned
// to that file, so a test compares what nodeinspect reports with what the process said to
// nodeinspect's own question, not with a reading taken before the attach grew the heap.
'use strict';
const net = require('net');
const { ready, watchdog } = require('./ready');
watchdog();
const mib = Number(process.argv[2] || 400);
const held = [];
for (let i = 0; i < mib; i++) held.push(Buffer.alloc(1 << 20, i & 0xff));
const server = net.createServer(() => {});
server.listen(0, '127.0.0.1', () => {
  global.gc && global.gc();
  const m = process.memoryUsage();
  const record = process.argv[3];
  if (record) {
    const fs = require('fs');
    const memoryUsage = process.memoryUsage;
    process.memoryUsage = function () {
      const m = memoryUsage.call(process);
      fs.writeFileSync(record, JSON.stringify(m));
      return m;
    };
  }
  ready({ port: server.address().port, held: held.length, rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, heapLimit: require('v8').getHeapStatistics().heap_size_limit });
});

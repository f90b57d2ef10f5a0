// Asks to be the OOM killer's first choice (oom_score_adj 1000: any process may raise its
// own), prints its ready line, then allocates Buffers without end, 1 MiB at a time, until
// the kernel kills it at the cgroup's memory limit.
'use strict';
const fs = require('fs');
const { ready, watchdog } = require('./ready');
watchdog();
fs.writeFileSync('/proc/self/oom_score_adj', '1000');
ready({ oom_score_adj: Number(fs.readFileSync('/proc/self/oom_score_adj', 'utf8')) });
const held = [];
const grow = () => {
  for (let i = 0; i < 16; i++) held.push(Buffer.alloc(1 << 20, 7));
  setImmediate(grow);
};
setImmediate(grow);

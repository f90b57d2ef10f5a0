// A process with no socket at all, only a timer: for a network namespace whose loopback
// is down (nothing can bind 127.0.0.1 there), and as a fd filler: argv[2] "fill" opens
// /dev/null until argv[3] (default 3) fds are left under its RLIMIT_NOFILE.
'use strict';
const fs = require('fs');
const { ready, watchdog } = require('./ready');
watchdog();
setInterval(() => {}, 1000);
const extra = {};
if (process.argv[2] === 'fill') {
  const want = Number(process.argv[3] || 3);
  const m = /Max open files\s+(\d+)/.exec(fs.readFileSync('/proc/self/limits', 'latin1'));
  const limit = Number(m[1]);
  const held = [];
  while (fs.readdirSync('/proc/self/fd').length - 1 < limit - want) held.push(fs.openSync('/dev/null', 'r'));
  extra.limit = limit;
  extra.open = fs.readdirSync('/proc/self/fd').length - 1;
  extra.held = held.length;
}
ready(extra);

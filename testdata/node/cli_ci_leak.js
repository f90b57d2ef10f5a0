// A service that is already in trouble (argv[2] fds open in all: under prlimit, near
// EMFILE) and leaks more when its "test suite" runs: on SIGUSR2 it opens argv[3] more files
// and never closes them, one of them a temp file it unlinks while holding it (disk space
// that df counts and du cannot find). The README's CI recipe runs against it.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { ready, watchdog } = require('./ready');
watchdog();
const target = Number(process.argv[2] || 100);
const more = Number(process.argv[3] || 20);
const held = [];
const open = () => fs.readdirSync('/proc/self/fd').length - 1; // minus the readdir's own fd
while (open() < target) held.push(fs.openSync('/dev/null', 'r'));
process.on('SIGUSR2', () => {
  const tmp = path.join(os.tmpdir(), `nodeinspect-ci-${process.pid}.tmp`);
  const fd = fs.openSync(tmp, 'w');
  fs.writeSync(fd, Buffer.alloc(1 << 20));
  fs.unlinkSync(tmp);
  held.push(fd);
  for (let i = 1; i < more; i++) held.push(fs.openSync('/dev/null', 'r'));
  fs.writeSync(1, JSON.stringify({ leaked: more, open: open() }) + '\n');
});
setInterval(() => {}, 1000);
setTimeout(() => ready({ open: open() }), 100);

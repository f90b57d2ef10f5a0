// Opens files and never closes them until it holds N fds in all (run under prlimit).
'use strict';
const fs = require('fs');
const { ready, watchdog } = require('./ready');
watchdog();
const target = Number(process.argv[2] || 100);
const held = [];
const open = () => fs.readdirSync('/proc/self/fd').length - 1; // minus the readdir's own fd
while (open() < target) held.push(fs.openSync('/dev/null', 'r'));
setTimeout(() => ready({ open: open() }), 100);
setInterval(() => {}, 1000);

// Sets process.title to argv[2], shorter than its own arguments: the kernel's cmdline is
// then the title padded with NULs over the rest of the original argument area.
'use strict';
const { ready, watchdog } = require('./ready');
watchdog();
process.title = process.argv[2] || 'svc';
setInterval(() => {}, 1000);
setTimeout(() => ready({}), 50);

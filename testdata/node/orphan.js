// A parent that spawns a long-lived node child in its own process group; the test kills
// the parent with SIGKILL and the child becomes an orphan.
'use strict';
const { spawn } = require('child_process');
const { ready, watchdog } = require('./ready');
watchdog();
const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 10 * 60 * 1000)'], { stdio: 'ignore' });
setTimeout(() => ready({ children: [child.pid] }), 200);
setInterval(() => {}, 1000);

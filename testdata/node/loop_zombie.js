// Makes a Node.js zombie: starts a node child that exits at once, then blocks its own main
// thread (Atomics.wait) so libuv never reaps the child. The ready line names the child.
'use strict';
const cp = require('child_process');
const { ready, watchdog } = require('./ready');
watchdog();
const child = cp.spawn(process.execPath, ['-e', 'process.exit(0)'], { stdio: 'ignore' });
ready({ children: [child.pid] });
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10 * 60 * 1000);

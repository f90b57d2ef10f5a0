// Spawns K children, then blocks its event loop (Atomics.wait): the children exit and
// nobody reaps them.
'use strict';
const { spawn } = require('child_process');
const { ready, watchdog } = require('./ready');
watchdog();
const K = Number(process.argv[2] || 3);
const children = [];
for (let i = 0; i < K; i++) children.push(spawn('true').pid);
const cell = new Int32Array(new SharedArrayBuffer(4));
Atomics.wait(cell, 0, 0, 300);
ready({ children });
Atomics.wait(cell, 0, 0, 10 * 60 * 1000);

// Idle, then after a delay (argv[3] ms, default 1500) opens N files (argv[2], default 50)
// and never closes them: snapshots taken before and after must show exactly those N.
'use strict';
const fs = require('fs');
const { ready, watchdog } = require('./ready');
watchdog();
const N = Number(process.argv[2] || 50);
const held = [];
setTimeout(() => { for (let i = 0; i < N; i++) held.push(fs.openSync('/dev/null', 'r')); }, Number(process.argv[3] || 1500));
setInterval(() => {}, 1000);
setTimeout(() => ready({}), 100);

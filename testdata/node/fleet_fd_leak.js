// Leaks file descriptors steadily (run under prlimit, toward a lowered RLIMIT_NOFILE): one
// every argv[2] ms (100) until it holds argv[3] of them (or hits EMFILE), then keeps them.
// Ready at once, so a scraper sees the growth.
'use strict';
const fs = require('fs');
const { ready, watchdog } = require('./ready');
watchdog();
const every = Number(process.argv[2] || 100);
const max = Number(process.argv[3] || 1e9);
const held = [];
setInterval(() => {}, 1000); // keeps the process alive once the leak stops
ready({});
const timer = setInterval(() => {
  try {
    held.push(fs.openSync('/dev/null', 'r'));
    if (held.length >= max) clearInterval(timer);
  } catch (e) {
    clearInterval(timer); // EMFILE: hold what is open
  }
}, every);

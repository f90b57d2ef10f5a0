// A saturated event loop: every turn does 20 ms of synchronous work, then one small write
// (a system call: the loop makes progress) and schedules the next turn with setImmediate.
'use strict';
const fs = require('fs');
const { ready, watchdog } = require('./ready');
watchdog();
const sink = fs.openSync('/dev/null', 'w');
const turn = () => {
  const end = Date.now() + 20;
  while (Date.now() < end) { /* work */ }
  fs.writeSync(sink, 'x');
  setImmediate(turn);
};
ready({});
setImmediate(turn);

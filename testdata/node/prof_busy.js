// Spends most of its time in burnCPU (this file), in 20 ms slices so the event loop still
// turns (the attach needs it): the profile test expects burnCPU on top of the self list.
'use strict';
const { ready, watchdog } = require('./ready');
watchdog();
let sink = 0;
function burnCPU(ms) {
  const end = Date.now() + ms;
  let x = 1;
  for (;;) {
    for (let i = 0; i < 20000; i++) x = (x * 1103515245 + 12345) % 2147483647;
    if (Date.now() >= end) break;
  }
  sink ^= x;
}
function tick() { burnCPU(20); setTimeout(tick, 1); }
ready({});
tick();

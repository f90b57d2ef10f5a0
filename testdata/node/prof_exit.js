// Burns CPU in spinBeforeExit for argv[2] ms (default 1500), then exits by itself: the
// profile test expects nodeinspect to write what it has when the target begins to exit.
'use strict';
const { ready, watchdog } = require('./ready');
watchdog();
const until = Date.now() + Number(process.argv[2] || 1500);
let sink = 0;
function spinBeforeExit() {
  let x = 1;
  for (let i = 0; i < 200000; i++) x = (x * 48271) % 2147483647;
  sink ^= x;
}
function tick() {
  spinBeforeExit();
  if (Date.now() >= until) process.exit(0);
  setTimeout(tick, 1);
}
ready({});
tick();

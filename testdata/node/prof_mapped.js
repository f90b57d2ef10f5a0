'use strict';
// A "compiled" file with a source map (prof_mapped.js.map) that places every line 100
// lines further down in prof_src/mapped.ts: the profile test expects burnMapped there.
const { ready, watchdog } = require('./ready');
watchdog();
let sink = 0;
function burnMapped(ms) {
  const end = Date.now() + ms;
  let x = 1;
  for (;;) {
    for (let i = 0; i < 20000; i++) x = (x * 1103515245 + 12345) % 2147483647;
    if (Date.now() >= end) break;
  }
  sink ^= x;
}
function tick() { burnMapped(20); setTimeout(tick, 1); }
ready({});
tick();
//# sourceMappingURL=prof_mapped.js.map

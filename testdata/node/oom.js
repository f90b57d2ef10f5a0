// Retains objects until V8 runs out of heap. Run with a small --max-old-space-size and
// --report-on-fatalerror to get the diagnostic report of an out-of-memory crash.
'use strict';
const kept = [];
for (;;) kept.push({ n: kept.length, pad: new Array(64).fill(kept.length) });

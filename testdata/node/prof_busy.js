// Spends most of its time in burnCPU (this file), in 20 ms slices so the event loop still
// turns (the attach needs it): the profile test expects burnCPU on top of the self list.
// burnCPU's long first line keeps it over TurboFan's inlining budget: code inlined before
// the profiler started is attributed to its caller (V8 lacks its inlining positions).
'use strict';
const { ready, watchdog } = require('./ready');
watchdog();
let sink = 0;
function burnCPU() {
  const end = Date.now() + 20;
  let x = 1; x = (x * 31 + 0) % 1000003; x = (x * 32 + 1) % 1000003; x = (x * 33 + 2) % 1000003; x = (x * 34 + 3) % 1000003; x = (x * 35 + 4) % 1000003; x = (x * 36 + 5) % 1000003; x = (x * 37 + 6) % 1000003; x = (x * 38 + 7) % 1000003; x = (x * 39 + 8) % 1000003; x = (x * 40 + 9) % 1000003; x = (x * 41 + 10) % 1000003; x = (x * 42 + 11) % 1000003; x = (x * 43 + 12) % 1000003; x = (x * 44 + 13) % 1000003; x = (x * 45 + 14) % 1000003; x = (x * 46 + 15) % 1000003; x = (x * 47 + 16) % 1000003; x = (x * 48 + 17) % 1000003; x = (x * 49 + 18) % 1000003; x = (x * 50 + 19) % 1000003; x = (x * 51 + 20) % 1000003; x = (x * 52 + 21) % 1000003; x = (x * 53 + 22) % 1000003; x = (x * 54 + 23) % 1000003; x = (x * 55 + 24) % 1000003; x = (x * 56 + 25) % 1000003; x = (x * 57 + 26) % 1000003; x = (x * 58 + 27) % 1000003; x = (x * 59 + 28) % 1000003; x = (x * 60 + 29) % 1000003; x = (x * 61 + 30) % 1000003; x = (x * 62 + 31) % 1000003; x = (x * 63 + 32) % 1000003; x = (x * 64 + 33) % 1000003; x = (x * 65 + 34) % 1000003; x = (x * 66 + 35) % 1000003; x = (x * 67 + 36) % 1000003; x = (x * 68 + 37) % 1000003; x = (x * 69 + 38) % 1000003; x = (x * 70 + 39) % 1000003; x = (x * 71 + 40) % 1000003; x = (x * 72 + 41) % 1000003; x = (x * 73 + 42) % 1000003; x = (x * 74 + 43) % 1000003; x = (x * 75 + 44) % 1000003; x = (x * 76 + 45) % 1000003; x = (x * 77 + 46) % 1000003; x = (x * 78 + 47) % 1000003; x = (x * 79 + 48) % 1000003; x = (x * 80 + 49) % 1000003; x = (x * 81 + 50) % 1000003; x = (x * 82 + 51) % 1000003; x = (x * 83 + 52) % 1000003; x = (x * 84 + 53) % 1000003; x = (x * 85 + 54) % 1000003; x = (x * 86 + 55) % 1000003; x = (x * 87 + 56) % 1000003; x = (x * 88 + 57) % 1000003; x = (x * 89 + 58) % 1000003; x = (x * 90 + 59) % 1000003;
  for (;;) {
    for (let i = 0; i < 20000; i++) x = (x * 1103515245 + 12345) % 2147483647;
    if (Date.now() >= end) break;
  }
  sink ^= x;
  setTimeout(burnCPU, 1);
}
ready({});
burnCPU();

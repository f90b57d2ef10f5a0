// The busy function of stack_busy.js, in a second file: renderReport spins on line 6.
'use strict';
function renderReport(ms) {
  const end = Date.now() + ms;
  let n = 0;
  while (Date.now() < end) { n++; }
  return n;
}
module.exports = { renderReport };

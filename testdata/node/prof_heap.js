// Retains a known number of objects of one class (argv[2], default 200000 RetainedWidget),
// and, unless argv[3] is "noleak", keeps allocating LeakyRecord objects in allocateLeaky
// (kept, up to a cap) so a sampling heap profile sees live allocations made during it.
'use strict';
const { ready, watchdog } = require('./ready');
watchdog();
class RetainedWidget {
  constructor(i) { this.id = i; this.a = i + 1; this.b = i + 2; this.c = i + 3; this.d = i + 4; this.e = i + 5; this.next = null; }
}
class LeakyRecord {
  constructor(i) { this.i = i; this.payload = new Array(16).fill(i); }
}
const count = Number(process.argv[2] || 200000);
const widgets = [];
for (let i = 0; i < count; i++) widgets.push(new RetainedWidget(i));
globalThis.keepWidgets = widgets;
const leaked = [];
function allocateLeaky() {
  for (let i = 0; i < 200; i++) leaked.push(new LeakyRecord(i));
  if (leaked.length > 400000) leaked.splice(0, 200);
}
if (process.argv[3] !== 'noleak') setInterval(allocateLeaky, 5);
else setInterval(() => {}, 1000);
ready({ widgets: count });

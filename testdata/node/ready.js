// Shared by the e2e scripts: print the one JSON "ready" line synchronously (it must be
// written before the script blocks its own event loop), and a watchdog so nothing a test
// starts can outlive it by more than ten minutes.
'use strict';
const fs = require('fs');
exports.ready = (fields) => fs.writeSync(1, JSON.stringify(Object.assign({ ready: true, pid: process.pid }, fields)) + '\n');
exports.watchdog = () => setTimeout(() => process.exit(0), 10 * 60 * 1000).unref();

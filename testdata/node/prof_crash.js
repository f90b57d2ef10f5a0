// Throws an uncaught exception once the file named by argv[2] exists: the arm test arms
// the report first, then creates the file.
'use strict';
const fs = require('fs');
const { ready, watchdog } = require('./ready');
watchdog();
const trigger = process.argv[2];
setInterval(() => {
  if (trigger && fs.existsSync(trigger)) throw new Error('prof_crash: triggered');
}, 20);
ready({});

// An idle Node.js process for the exporter's churn test and top: a timer, nothing else.
'use strict';
const { ready, watchdog } = require('./ready');
watchdog();
setInterval(() => {}, 1000);
ready({});

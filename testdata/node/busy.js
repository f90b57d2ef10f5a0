// A CPU-bound main thread: the event loop never turns.
'use strict';
const { ready } = require('./ready');
ready({});
const end = Date.now() + 10 * 60 * 1000;
while (Date.now() < end) { /* spin */ }

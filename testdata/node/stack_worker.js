// The main thread idles (a TCP server answering "pong") while a worker thread spins in
// crunch (line 9). With argv[2] = "exit", the main thread terminates the worker argv[3]
// ms after its inspector opens (someone attached).
'use strict';
const net = require('net');
const { Worker, isMainThread } = require('worker_threads');
if (!isMainThread) {
  function crunch() {
    let n = 0; for (;;) { n++; }
  }
  crunch();
  return;
}
const inspector = require('inspector');
const { ready, watchdog } = require('./ready');
watchdog();
const worker = new Worker(__filename);
worker.on('error', () => {});
if (process.argv[2] === 'exit') {
  const ms = Number(process.argv[3] || 1000);
  const poll = setInterval(() => {
    if (inspector.url()) { clearInterval(poll); setTimeout(() => worker.terminate(), ms); }
  }, 5);
}
worker.on('online', () => {
  const server = net.createServer((s) => { s.end('pong\n'); });
  server.listen(0, '127.0.0.1', () => ready({ port: server.address().port }));
});

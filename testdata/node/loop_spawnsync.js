// Blocks its main thread in a synchronous child process (a private libuv loop): argv[2]
// is execSync, spawnSync, execFileSync (each runs `sleep argv[3]`, default 20) or top
// (execSync in the first tick of the script, before the event loop ever ran). The ready
// line comes first; the child is found through /proc. With argv[2] async, the server
// starts `sleep` asynchronously (its stdio watched by the event loop itself) and idles.
'use strict';
const cp = require('child_process');
const net = require('net');
const { ready, watchdog } = require('./ready');
watchdog();
const mode = process.argv[2] || 'execSync';
const seconds = String(Number(process.argv[3] || 20));
const block = {
  execSync: () => cp.execSync('sleep ' + seconds),
  spawnSync: () => cp.spawnSync('sleep', [seconds]),
  execFileSync: () => cp.execFileSync('sleep', [seconds]),
}[mode === 'top' || mode === 'async' ? 'execSync' : mode];
if (mode === 'async') {
  const server = net.createServer(() => {});
  server.listen(0, '127.0.0.1', () => {
    const child = cp.spawn('sleep', [seconds]);
    child.stdout.on('data', () => {});
    setTimeout(() => ready({ port: server.address().port, children: [child.pid] }), 100);
  });
} else if (mode === 'top') {
  ready({});
  block();
} else {
  // A server and an async child first, so the event loop has run and has a child of its
  // own to watch: the private loop must still be told from it.
  const server = net.createServer(() => {});
  server.listen(0, '127.0.0.1', () => {
    ready({ port: server.address().port });
    setTimeout(block, 50);
  });
}

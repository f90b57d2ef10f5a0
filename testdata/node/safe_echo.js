// A small server for the attach-safety tests. It answers "ping" with "pong" (so a test can
// tell it answers, i.e. its main thread is not paused), and obeys a few commands sent on
// the same connection:
//   "exit"     process.exit(0) at once
//   "drain"    close the server; the process exits once its loop is empty
//   "block N"  execSync('sleep N'): the main thread sits in a synchronous child for N s
// On SIGTERM it closes its server and lets the loop drain (a graceful stop).
// argv[2] = "title" rewrites process.title (the command line loses its flags);
// argv[2] = "stall-on-attach" runs execSync('sleep argv[3]') once, as soon as its inspector
// opens (the query then gets no answer until the stall ends);
// argv[2] = "usr1" handles SIGUSR1 itself (as log-reopening apps do): the signal then runs
// this handler, not the inspector, and "usr1?" answers how many it got.
'use strict';
const net = require('net');
const { execSync } = require('child_process');
const { ready, watchdog } = require('./ready');
watchdog();
if (process.argv[2] === 'title') process.title = 'safe-echo-renamed';
if (process.argv[2] === 'stall-on-attach') {
  const inspector = require('inspector');
  const t = setInterval(() => {
    if (inspector.url()) { clearInterval(t); execSync('sleep ' + Number(process.argv[3] || 2)); }
  }, 2);
}
let usr1 = 0;
if (process.argv[2] === 'usr1') process.on('SIGUSR1', () => { usr1++; });
const conns = new Set();
const server = net.createServer((s) => {
  conns.add(s);
  s.on('close', () => conns.delete(s));
  s.on('error', () => {});
  s.on('data', (d) => {
    const t = d.toString().trim();
    if (t === 'exit') { s.end('bye\n'); process.exit(0); }
    if (t === 'drain') { s.end('bye\n'); server.close(); return; }
    if (t === 'usr1?') { s.write(usr1 + '\n'); return; }
    const m = /^block (\d+)$/.exec(t);
    if (m) { s.write('blocking\n'); execSync('sleep ' + m[1]); s.write('unblocked\n'); return; }
    s.write('pong\n');
  });
});
process.on('SIGTERM', () => { server.close(); for (const c of conns) c.end(); });
server.listen(0, '127.0.0.1', () => ready({ port: server.address().port }));

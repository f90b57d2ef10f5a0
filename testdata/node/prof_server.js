// An HTTP server with a realistic handler (JSON, a template, a regular expression, a hash),
// for the README's profile and flame graph and for measuring the overhead of profiling
// under load (scripts/profbench). Prints its port in the ready line.
'use strict';
const http = require('http');
const crypto = require('crypto');
const { ready, watchdog } = require('./ready');
watchdog();

function buildRecord(i) {
  const tags = [];
  for (let k = 0; k < 20; k++) tags.push('tag-' + ((i * 31 + k) % 97));
  return { id: i, name: 'item ' + i, tags, price: (i * 7919) % 1000 / 10 };
}
function renderTemplate(rec) {
  return '<li data-id="{{id}}">{{name}}: {{price}} [{{tags}}]</li>'
    .replace(/\{\{(\w+)\}\}/g, (_, k) => String(k === 'tags' ? rec.tags.join(',') : rec[k]));
}
function hashPayload(s) {
  return crypto.createHash('sha256').update(s).digest('hex');
}
function handle(req, res) {
  const n = 40;
  let body = '';
  for (let i = 0; i < n; i++) body += renderTemplate(buildRecord(i));
  const json = JSON.stringify({ etag: hashPayload(body), size: body.length });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}
const server = http.createServer(handle);
server.keepAliveTimeout = 60000;
server.listen(Number(process.argv[2] || 0), '127.0.0.1', () => ready({ port: server.address().port }));
process.on('SIGTERM', () => server.close());

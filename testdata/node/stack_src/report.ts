// report.ts: the original of the bundle stack_*.js (TypeScript-style source).






































export function renderReport(ms: number): number {
  const end: number = Date.now() + ms;
  let n = 0; while (Date.now() < end) { n++; }
  return n;
}





server.listen(0, '127.0.0.1', () => { ready({ port: server.address().port }); setImmediate(function main() { renderReport(600000); }); });












// Writes two diagnostic reports into argv[2] and exits 0: plain.json from
// process.report.writeReport() (no error: Node records a synthetic ERR_SYNTHETIC one) and
// handled.json from writeReport(file, err) for an error the program caught. Neither is a
// crash. Holds no handle: started with stdio on files, the report lists no fd.
'use strict';
const path = require('path');
const dir = process.argv[2];
process.report.writeReport(path.join(dir, 'plain.json'));
try {
  JSON.parse('{');
} catch (err) {
  process.report.writeReport(path.join(dir, 'handled.json'), err);
}

// A deleted file still open (N MiB), a live file whose real name ends in " (deleted)", and
// files with hostile names (newline, spaces, non-UTF-8 bytes).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { ready, watchdog } = require('./ready');
watchdog();
const mib = Number(process.argv[2] || 5);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ni-deleted-'));
const gone = path.join(dir, 'rotated.log');
fs.writeFileSync(gone, Buffer.alloc(mib << 20, 'x'));
const goneFd = fs.openSync(gone, 'r');
fs.unlinkSync(gone);
const liar = path.join(dir, 'alive.log (deleted)');
fs.writeFileSync(liar, 'still here');
const liarFd = fs.openSync(liar, 'r');
const hostile = path.join(dir, 'with space\nand newline.txt');
fs.writeFileSync(hostile, 'x');
const hostileFd = fs.openSync(hostile, 'r');
const raw = Buffer.concat([Buffer.from(dir + '/bad'), Buffer.from([0xff, 0xfe]), Buffer.from('.bin')]);
fs.writeFileSync(raw, 'x');
const rawFd = fs.openSync(raw, 'r');
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
setInterval(() => {}, 1000);
ready({ dir, fds: { gone: goneFd, liar: liarFd, hostile: hostileFd, raw: rawFd }, bytes: mib << 20 });

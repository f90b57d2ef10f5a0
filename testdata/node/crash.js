// Opens a server, a client connection and a timer, then dies of an uncaught error with a
// code. Run with --report-uncaught-exception to get a diagnostic report of the crash.
'use strict';
const net = require('net');
const server = net.createServer(() => {});
server.listen(0, '127.0.0.1', () => {
  const client = net.connect(server.address().port, '127.0.0.1', () => {
    setInterval(() => {}, 60000);
    setTimeout(() => {
      const err = new Error('payment service returned garbage');
      err.code = 'E_GARBAGE';
      throw err;
    }, 20);
  });
  client.on('error', () => {});
});

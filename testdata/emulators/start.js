// Starts one emulator bound to 127.0.0.1 (kinesalite's CLI has no host flag,
// so both are started through their library entry points).
//
//   node start.js kinesis|dynamodb PORT [--exit-with-stdin]
//
// PORT 0 picks a free port. When the server listens it prints one line,
// "listening 127.0.0.1:<port>", on stdout, which the Go tests wait for.
// State is kept in memory and lost when the process exits.
'use strict';

const [kind, portArg, flag] = process.argv.slice(2);
const port = Number(portArg);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error('usage: node start.js kinesis|dynamodb PORT [--exit-with-stdin]');
  process.exit(2);
}

let server;
switch (kind) {
  case 'kinesis':
    // Stream changes take effect at once; enough shards for the resharding tests.
    server = require('kinesalite')({
      createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 1000,
    });
    break;
  case 'dynamodb':
    server = require('dynalite')({
      createTableMs: 0, deleteTableMs: 0, updateTableMs: 0,
    });
    break;
  default:
    console.error(`unknown emulator ${JSON.stringify(kind)}: want kinesis or dynamodb`);
    process.exit(2);
}

// kinesalite rethrows the error of a request whose client went away (a consumer
// killed in the middle of a GetRecords, as the failover tests do), which would end
// the process and every other test's stream with it: log those and go on.
process.on('uncaughtException', (err) => {
  if (err && (err.code === 'ECONNRESET' || err.code === 'EPIPE' || err.message === 'aborted')) {
    console.error(`${kind}: a client went away mid-request (${err.message}); still serving`);
    return;
  }
  console.error(err);
  process.exit(1);
});

server.on('error', (err) => {
  console.error(`${kind}: ${err.message}`);
  process.exit(1);
});
server.listen(port, '127.0.0.1', () => {
  const addr = server.address();
  console.log(`listening ${addr.address}:${addr.port}`);
});

// With --exit-with-stdin the server exits when its stdin closes, so an
// emulator started by a test that is killed leaves nothing behind.
if (flag === '--exit-with-stdin') {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));

#!/usr/bin/env node
/**
 * s3rver (an S3 emulator) on 127.0.0.1 as its own process, because the tests run Jest synchronously
 * and could not serve requests themselves.
 *
 *   node s3rver.js <directory> <bucket>[,<bucket>...]
 *
 * Prints the port it listens on as the first line on stdout; stops on SIGTERM.
 */
const S3rver = require('s3rver');

const [directory, buckets] = process.argv.slice(2);
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory,
  configureBuckets: buckets.split(',').map((name) => ({ name })),
});
server.run().then(({ port }) => process.stdout.write(`${port}\n`));
process.on('SIGTERM', () => server.close().finally(() => process.exit(0)));

#!/usr/bin/env node
/**
 * What travels, and how long shipping takes: a first run against an empty bucket (s3rver) and a
 * cold container (serverless-offline), a second run with nothing changed, and a third after one
 * source file changed. Also without a bucket (blobs inline in invocations) to a cold container.
 * The project: examples/typescript-basics in a consumer that installed jest, ts-jest, typescript, @types/jest
 * and the runner from its tarball.
 *
 *   node bench/shipping.js [--json=bench/results/shipping.json] [--quick]
 * (--quick: the same runs, results into a temporary folder; the project is small either way)
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startOffline } = require('../test/support/offline');
const { encodePackSync } = require('../dist/src/ship/pack');
const { sha256 } = require('../dist/src/ship/sha256');
const { benchArgs, printFigures } = require('./support/args');
const { REPO, consumerProject, emulators, runJest } = require('./support/lambda-env');

const JSON_OUT = benchArgs('shipping').json;
const CHANGED = 'src/stack.ts';

const mb = (n) => `${(n / 1024 / 1024).toFixed(2)} MB`;

async function main() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'jrl-bench-shipping-'));
  const project = consumerProject(path.join(work, 'project'), ['ts-jest', 'typescript', '@types/jest']);
  const suite = path.join(project, 'typescript-basics');
  fs.cpSync(path.join(REPO, 'examples', 'typescript-basics'), suite, { recursive: true });
  const emu = await emulators(work);
  const rows = [];
  const results = {};
  try {
    const s3env = { ...emu.env, JEST_REMOTE_LAMBDA_BUCKET: emu.bucket };
    const cache = ['--cacheDirectory', path.join(work, 'jest-cache')];
    const first = runJest(suite, s3env, cache);
    const second = runJest(suite, s3env, cache);
    const file = path.join(suite, CHANGED);
    fs.appendFileSync(file, `\nexport const benchmarkMarker = ${Date.now()};\n`);
    const bytes = fs.readFileSync(file);
    const filePack = encodePackSync([[sha256(bytes), bytes]]).length;
    const third = runJest(suite, s3env, cache);
    results.s3 = { first, second, changed: third, changedFile: { path: CHANGED, bytes: bytes.length, packBytes: filePack } };
    rows.push(['S3, first run (empty bucket, cold container)', first], ['S3, second run, nothing changed', second], [`S3, after changing ${CHANGED}`, third]);

    // Without a bucket: a fresh emulator, so its container starts cold. (The bucket variable of the
    // shared stack is cleared: this emulator's function has no S3 endpoint to reach it by.)
    const cold = await startOffline(REPO, path.join(work, 'lambda-tmp-inline'), path.join(work, 'service-inline'));
    try {
      // (one invocation at a time: serverless-offline runs the handler in its HTTP server's process, and
      // a 6 MB upload beside a running invocation can stall past hapi's 10 s payload timeout: EPIPE)
      const inlineEnv = { ...emu.env, JEST_REMOTE_LAMBDA_BUCKET: '', AWS_ENDPOINT_URL_LAMBDA: cold.endpoint, JEST_REMOTE_LAMBDA_CONCURRENCY: '1' };
      const inlineCache = ['--cacheDirectory', path.join(work, 'jest-cache-inline')];
      const i1 = runJest(suite, inlineEnv, inlineCache);
      fs.appendFileSync(file, `\nexport const benchmarkMarker2 = ${Date.now()};\n`);
      const i2 = runJest(suite, inlineEnv, inlineCache);
      results.inline = { first: i1, changed: i2 };
      rows.push(['inline, first run (cold container)', i1], [`inline, after changing ${CHANGED} (warm container)`, i2]);
    } finally {
      await cold.stop();
    }
  } finally {
    await emu.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }

  const changed = results.s3.changed;
  const manifests = changed.newBytes - results.s3.changedFile.packBytes;
  const lines = [
    `shipping: examples/typescript-basics with jest, ts-jest, typescript, @types/jest installed (${results.s3.first.files} test files), Node ${process.version}`,
    '',
    '| run | uploaded to S3 (objects) | already in S3 | inline in invocations | ship phase (ms) | wall (ms) |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      ([name, r]) =>
        `| ${name} | ${r.newObjects ? `${mb(r.newBytes)} (${r.newObjects})` : '0'} | ${mb(r.cachedBytes)} (${r.cachedObjects}) | ${mb(r.inlineBytes)} | ${r.shipMs} | ${r.wallMs.toFixed(0)} |`,
    ),
    '',
    `After changing ${CHANGED} (${results.s3.changedFile.bytes} B; ${results.s3.changedFile.packBytes} B as its compressed pack): ` +
      `uploaded ${changed.newBytes} B in ${changed.newObjects} objects = the file's pack + ${manifests} B of manifest part and project description. ` +
      `Ratio to the file's shipped bytes: ${(changed.newBytes / results.s3.changedFile.packBytes).toFixed(1)}× (manifests included), ` +
      `first run / changed run: ${(results.s3.first.newBytes / changed.newBytes).toFixed(0)}×.`,
  ];
  console.log(lines.join('\n'));
  fs.mkdirSync(path.dirname(JSON_OUT), { recursive: true });
  fs.writeFileSync(JSON_OUT, JSON.stringify({ date: new Date().toISOString(), node: process.version, results }, null, 2));
  fs.writeFileSync(JSON_OUT.replace(/\.json$/, '.md'), `${lines.join('\n')}\n\nReproduce: \`npm run build && node bench/shipping.js\`\n`);
  const figures = (r) => ({ uploadedBytes: r.newBytes, uploadedObjects: r.newObjects, inlineBytes: r.inlineBytes, shipMs: r.shipMs });
  printFigures({
    first: figures(results.s3.first),
    unchanged: figures(results.s3.second),
    changed: { ...figures(changed), changedFilePackBytes: results.s3.changedFile.packBytes },
    inline: { first: figures(results.inline.first), changed: figures(results.inline.changed) },
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

#!/usr/bin/env node
/**
 * What our "bundling" costs on a big project: the mirror (walk, sha256 of every file, manifest),
 * then what each backend does with it: the embedded backend copies new blobs into its store, the
 * lambda backend groups installed packages into packs and cuts the manifest into parts. Cold: an
 * empty hash cache (every file read and hashed). Warm: a second run, nothing changed (one stat per
 * file). Peak RSS is the process's own, sampled. The project is generated: 5,000 source modules
 * and 1,000 test files, plus (lambda) a real node_modules (this repository's, linked in).
 *
 *   node bench/bundle.js [--modules=5000] [--tests=1000] [--runs=3] [--json=bench/results/bundle.json] [--quick]
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { buildMirror } = require('../dist/src/mirror/walk');
const { HashCache } = require('../dist/src/mirror/hash-cache');
const { LocalBlobStore } = require('../dist/src/ship/blob-store');
const { packsOf } = require('../dist/src/ship/pack');
const { splitManifest } = require('../dist/src/ship/manifest-parts');

const { benchArgs, printFigures } = require('./support/args');

const REPO = path.resolve(__dirname, '..');
const args = benchArgs('bundle', { defaults: { modules: 5000, tests: 1000, runs: 3 }, quick: { modules: 200, tests: 40, runs: 1 } });
const MODULES = args.modules;
const TESTS = args.tests;
const RUNS = args.runs;
const JSON_OUT = args.json;

function generate(dir) {
  fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'test'));
  fs.mkdirSync(path.join(dir, '.git'));
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'big', private: true }));
  for (let i = 0; i < MODULES; i++) {
    const sub = path.join(dir, 'src', `area${i % 50}`);
    fs.mkdirSync(sub, { recursive: true });
    const dep = i > 0 ? `const prev = require('../area${(i - 1) % 50}/m${i - 1}');\n` : '';
    fs.writeFileSync(
      path.join(sub, `m${i}.js`),
      `${dep}// module ${i}\nexports.value = ${i};\nexports.twice = (x) => x * 2 + ${i};\n${'// padding line\n'.repeat(i % 40)}`,
    );
  }
  for (let i = 0; i < TESTS; i++) {
    const m = (i * 5) % MODULES;
    fs.writeFileSync(
      path.join(dir, 'test', `t${i}.test.js`),
      `const m = require('../src/area${m % 50}/m${m}');\ntest('value ${i}', () => expect(m.value).toBe(${m}));\n`,
    );
  }
}

function mirrorOnce(dir, hashes, nodeModules) {
  const t = performance.now();
  const mirror = buildMirror({ rootDir: dir, roots: [dir], cwd: dir, include: [], exclude: [], skipDirs: [], configStrings: [], nodeModules }, hashes);
  hashes.save();
  return { ms: performance.now() - t, mirror };
}

function measure(label, dir, nodeModules, after) {
  const rows = [];
  for (let r = 0; r < RUNS; r++) {
    const cacheFile = path.join(dir, '..', `hashes-${label}-${r}.json`);
    const cold = mirrorOnce(dir, new HashCache(cacheFile), nodeModules);
    const coldAfter = after(cold.mirror, r, 'cold');
    const warm = mirrorOnce(dir, new HashCache(cacheFile), nodeModules);
    const warmAfter = after(warm.mirror, r, 'warm');
    rows.push({
      files: cold.mirror.manifest.files.length,
      bytes: cold.mirror.bytes,
      coldMirrorMs: cold.ms,
      coldBackendMs: coldAfter,
      warmMirrorMs: warm.ms,
      warmBackendMs: warmAfter,
    });
  }
  const med = (k) => {
    const s = rows.map((x) => x[k]).sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)];
  };
  return {
    label,
    files: rows[0].files,
    bytes: rows[0].bytes,
    coldMirrorMs: med('coldMirrorMs'),
    coldBackendMs: med('coldBackendMs'),
    warmMirrorMs: med('warmMirrorMs'),
    warmBackendMs: med('warmBackendMs'),
    rows,
  };
}

function main() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'jrl-bench-bundle-'));
  try {
    const project = path.join(work, 'project');
    generate(project);
    const local = measure('local', project, 'link', (mirror, r) => {
      const t = performance.now();
      new LocalBlobStore(path.join(work, `store-${r}`)).add(mirror.sources);
      return performance.now() - t;
    });
    fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(project, 'node_modules'));
    const lambda = measure('lambda', project, 'ship', (mirror) => {
      const t = performance.now();
      packsOf(mirror.manifest);
      splitManifest(mirror.manifest);
      return performance.now() - t;
    });
    const peakRss = process.resourceUsage().maxRSS * 1024;
    const perSecond = (n, ms) => Math.round((n / ms) * 1000);
    const lines = [
      `bundle: generated project of ${MODULES} modules + ${TESTS} test files; median of ${RUNS} runs; ${os.cpus().length} cores, Node ${process.version}`,
      '',
      '| backend | files | cold: mirror (ms) | cold: files/s | cold: store or packs (ms) | warm: mirror (ms) | warm: files/s | warm: store or packs (ms) |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
      ...[local, lambda].map(
        (m) =>
          `| ${m.label === 'local' ? 'local (node_modules linked)' : 'lambda (node_modules shipped, packed)'} | ${m.files} | ${m.coldMirrorMs.toFixed(0)} | ${perSecond(m.files, m.coldMirrorMs)} | ${m.coldBackendMs.toFixed(0)} | ${m.warmMirrorMs.toFixed(0)} | ${perSecond(m.files, m.warmMirrorMs)} | ${m.warmBackendMs.toFixed(0)} |`,
      ),
      '',
      `peak RSS of this process: ${(peakRss / 1024 / 1024).toFixed(0)} MB`,
    ];
    console.log(lines.join('\n'));
    fs.mkdirSync(path.dirname(JSON_OUT), { recursive: true });
    fs.writeFileSync(
      JSON_OUT,
      JSON.stringify(
        { date: new Date().toISOString(), modules: MODULES, tests: TESTS, runs: RUNS, node: process.version, local, lambda, peakRssBytes: peakRss },
        null,
        2,
      ),
    );
    fs.writeFileSync(JSON_OUT.replace(/\.json$/, '.md'), `${lines.join('\n')}\n\nReproduce: \`npm run build && node bench/bundle.js\`\n`);
    const rates = (m) => ({ files: m.files, coldFilesPerSecond: perSecond(m.files, m.coldMirrorMs), warmFilesPerSecond: perSecond(m.files, m.warmMirrorMs) });
    printFigures({ modules: MODULES, tests: TESTS, local: rates(local), lambda: rates(lambda), peakRssBytes: peakRss });
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main();

// Bundles the entry points into single files: a worker process, a Lambda container or Jest loading
// the runner starts faster reading one file than resolving a few hundred modules (zod's).
// The user's Jest is never bundled: the handler requires it at run time by path.
//   dist/handler/worker.js  the embedded backend's worker process; the AWS SDK stays external
//   dist/handler/index.js   the Lambda entry (index.handler): self-contained, zip-ready
//   dist/src/index.cjs      the runner Jest loads (the AWS SDK stays external and is loaded
//                           only for the lambda backend; esbuild too, which cannot be bundled)
//   dist/src/cli.js         the `jest-runner-remote-lambda` command: a two-line entry into tsc's
//                           dist/src/cli/main.js (not bundled: the package stays small)
const esbuild = require('esbuild');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const common = {
  absWorkingDir: root,
  outdir: 'dist/handler',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'error',
  metafile: true,
  minify: true,
  keepNames: true,
  legalComments: 'external',
  define: { __JRL_VERSION__: JSON.stringify(require('../package.json').version) },
};

Promise.all([
  esbuild.build({ ...common, entryPoints: { worker: 'handler/worker.ts' }, external: ['@aws-sdk/*'] }),
  esbuild.build({ ...common, entryPoints: { index: 'handler/index.ts' } }),
  // .cjs: Jest loads a runner through its transform (for runners written in TypeScript); its
  // default pattern (\.[jt]sx?$) leaves .cjs alone, so a linked checkout is not run through babel
  esbuild.build({
    ...common,
    outdir: undefined,
    outfile: 'dist/src/index.cjs',
    entryPoints: ['src/index.ts'],
    external: ['@aws-sdk/*', 'cli-progress', 'esbuild'],
  }),
])
  .then((results) => {
    fs.writeFileSync(
      path.join(root, 'dist/src/cli.js'),
      "#!/usr/bin/env node\n'use strict';\nrequire('./cli/main.js').main(process.argv.slice(2)).then((code) => (process.exitCode = code));\n",
      { mode: 0o755 },
    );
    if (!process.env.BUNDLE_VERBOSE) return;
    for (const result of results) {
      for (const [file, o] of Object.entries(result.metafile.outputs)) console.log(`${file}: ${o.bytes} bytes`);
    }
  })
  .catch(() => process.exit(1));

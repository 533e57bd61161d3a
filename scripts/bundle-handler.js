// Bundles the handler's entry points into single files (dist/handler/*.js): a worker process or a
// Lambda container starts faster reading one file than resolving a few hundred modules (zod's).
// The user's Jest is never bundled: the handler requires it at run time by path.
const esbuild = require('esbuild');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
esbuild
  .build({
    absWorkingDir: root,
    entryPoints: { worker: 'handler/worker.ts', index: 'handler/index.ts' },
    outdir: 'dist/handler',
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: true,
    logLevel: 'error',
    metafile: true,
  })
  .then((result) => {
    const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
    if (process.env.BUNDLE_VERBOSE) console.log(`handler bundle: ${bytes} bytes`);
  })
  .catch(() => process.exit(1));

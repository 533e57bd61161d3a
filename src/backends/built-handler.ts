/**
 * The built handler bundles (`dist/handler/worker.js` for the embedded backend's workers,
 * `dist/handler/index.js` for Lambda), found from whichever build of this package is running:
 * tsc's dist/src/..., the dist/src/*.cjs bundles, or the sources under ts-jest.
 */
import fs from 'node:fs';
import path from 'node:path';

export function builtHandler(file: 'worker.js' | 'index.js'): string {
  for (let dir = __dirname; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    const candidate = path.basename(dir) === 'dist' ? path.join(dir, 'handler', file) : path.join(dir, 'dist', 'handler', file);
    if (fs.existsSync(candidate)) return candidate;
  }
  return path.resolve(__dirname, '../../dist/handler', file);
}

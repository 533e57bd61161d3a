/**
 * The package version: baked into the handler bundle (so a deployed function can say which it
 * runs), else read from the nearest package.json above this file.
 */
import fs from 'node:fs';
import path from 'node:path';

declare const __JRL_VERSION__: string | undefined;

export const HANDLER_VERSION: string = typeof __JRL_VERSION__ === 'string' ? __JRL_VERSION__ : versionFromPackageJson();

function versionFromPackageJson(): string {
  for (let dir = __dirname; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
  }
  return 'unknown';
}

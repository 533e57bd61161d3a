/**
 * Snapshot write-back: what a remote run changed in its tree that belongs in the user's checkout.
 */
import fs from 'node:fs';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import type { FileWrite } from '../protocol';

/**
 * Applies the snapshot files (and inline-snapshot rewrites of test files) a run produced, so
 * `npx jest` and `npx jest -u` leave the checkout as Jest's default runner would. Only paths inside
 * the project's roots are accepted.
 */
export function applyWrites(writes: FileWrite[], roots: string[]): void {
  for (const write of writes) {
    const target = path.resolve(write.path);
    if (!roots.some((root) => target.startsWith(path.resolve(root) + path.sep))) {
      throw new Error(`Refusing to write ${target}: it is outside the project's roots (${roots.join(', ')}).`);
    }
    if (write.content === null) {
      fs.rmSync(target, { force: true });
      continue;
    }
    fs.mkdirSync(path.dirname(target), { recursive: true });
    writeFileAtomic.sync(target, Buffer.from(write.content, 'base64'));
  }
}

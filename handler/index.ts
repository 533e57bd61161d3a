/**
 * The Lambda entry point (`index.handler` in dist/handler): parse -> execute -> serialize, with a
 * content store and one private tree under /tmp that warm invocations of this container reuse.
 */
import path from 'node:path';
import { LocalBlobStore } from '../src/ship';
import { execute } from './execute';

const WORK_DIR = process.env.JEST_REMOTE_LAMBDA_WORK_DIR ?? '/tmp/jrl';
const store = new LocalBlobStore(path.join(WORK_DIR, 'store'));
const root = path.join(WORK_DIR, 'root');

// A Lambda container serves one invocation at a time; emulators that run several in one process
// must not interleave them either (the tree, the working directory and process.env are shared).
let queue: Promise<unknown> = Promise.resolve();

export function handler(event: unknown): Promise<unknown> {
  const run = queue.then(() => execute(event, { root: { kind: 'materialize', dir: root, blobs: store } }));
  queue = run.catch(() => undefined);
  return run;
}

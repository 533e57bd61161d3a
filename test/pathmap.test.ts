import { PathMap } from '../handler/pathmap';

const map = new PathMap('/home/dev/app', '/tmp/jrl/root');

test('rewrites whole paths and paths inside text, only at path boundaries', () => {
  expect(map.path('/home/dev/app/src/a.ts')).toBe('/tmp/jrl/root/src/a.ts');
  expect(map.path('/home/dev/app')).toBe('/tmp/jrl/root');
  expect(map.path('/home/dev/app2/x')).toBe('/home/dev/app2/x');
  expect(map.string('at f (/home/dev/app/src/a.ts:3:9)\n at g (/home/dev/app-old/b.ts:1:1)')).toBe(
    'at f (/tmp/jrl/root/src/a.ts:3:9)\n at g (/home/dev/app-old/b.ts:1:1)',
  );
});

test('deep rewrites keys and values of nested values and leaves other types alone', () => {
  expect(map.deep({ '/home/dev/app/a.js': { paths: ['/home/dev/app/b.js', 3, null, true] } })).toEqual({
    '/tmp/jrl/root/a.js': { paths: ['/tmp/jrl/root/b.js', 3, null, true] },
  });
});

test('several prefixes: the longest wins where both match, and a rewritten path is not rewritten again', () => {
  // the checkout, and a node_modules its link leads to outside it
  const toRemote = new PathMap([
    ['/home/dev/app', '/tmp/jrl/root/home/dev/app'],
    ['/opt/shared/node_modules', '/tmp/jrl/root/home/dev/app/node_modules'],
  ]);
  expect(toRemote.string('at f (/opt/shared/node_modules/jest-circus/runner.js:1:1) at g (/home/dev/app/a.js:2:2)')).toBe(
    'at f (/tmp/jrl/root/home/dev/app/node_modules/jest-circus/runner.js:1:1) at g (/tmp/jrl/root/home/dev/app/a.js:2:2)',
  );
  const toLocal = new PathMap([
    ['/tmp/jrl/root', ''],
    ['/tmp/jrl/root/home/dev/app/node_modules', '/opt/shared/node_modules'],
  ]);
  expect(toLocal.path('/tmp/jrl/root/home/dev/app/node_modules/x/index.js')).toBe('/opt/shared/node_modules/x/index.js');
  expect(toLocal.string('/tmp/jrl/root/home/dev/app/src/a.js and /tmp/jrl/root/home/dev/app/node_modules/x')).toBe(
    '/home/dev/app/src/a.js and /opt/shared/node_modules/x',
  );
});

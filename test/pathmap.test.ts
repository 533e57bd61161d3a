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

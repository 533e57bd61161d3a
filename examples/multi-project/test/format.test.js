const { formatBytes, runtimeName } = require('../src/format');

describe('formatBytes', () => {
  test.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KB'],
    [1536, '1.5 KB'],
    [5 * 1024 * 1024, '5.0 MB'],
  ])('%i bytes is %s', (bytes, expected) => {
    expect(formatBytes(bytes)).toBe(expected);
  });
});

test('knows which environment it runs in', () => {
  const name = runtimeName();
  console.log(`running under ${name}`);
  expect(['node', 'browser']).toContain(name);
});

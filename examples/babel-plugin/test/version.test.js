import { APP_NAME, VERSION, compareVersions, parseVersion, satisfiesCaret } from '../src/version';

const pkg = require('../package.json');

describe('inlined version constants', () => {
  test('VERSION is inlined from package.json', () => {
    expect(VERSION).toBe(pkg.version);
    expect(VERSION).toBe('2.7.1');
    expect(APP_NAME).toBe('example-babel-plugin');
  });

  test('the identifiers are also replaced inside test files', () => {
    expect(__APP_VERSION__).toBe('2.7.1');
    expect(typeof __APP_NAME__).toBe('string');
  });

  test('there is no runtime global: the value exists only in transformed code', () => {
    expect(globalThis.__APP_VERSION__).toBeUndefined();
    expect('__APP_VERSION__' in globalThis).toBe(false);
  });

  test.each([
    ['2.7.1', '2.7.1', 0],
    ['2.7.1', '2.10.0', -1],
    ['2.7.1-beta.1', '2.7.1', -1],
  ])('compareVersions(%s, %s) = %i', (a, b, expected) => {
    expect(compareVersions(a, b)).toBe(expected);
  });

  test.each([
    ['^2.0.0', true],
    ['^2.8.0', false],
    ['^1.0.0', false],
  ])('current version satisfies %s: %p', (range, expected) => {
    expect(satisfiesCaret(range)).toBe(expected);
  });

  test('parseVersion rejects malformed input', () => {
    expect(() => parseVersion('v2')).toThrow('Invalid version: v2');
    expect(parseVersion(VERSION)).toEqual({ major: 2, minor: 7, patch: 1, prerelease: null });
  });
});

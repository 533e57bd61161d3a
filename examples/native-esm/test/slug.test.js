import { describe, expect, test } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import slugifyDefault, { slugify, uniqueSlug } from '../src/slug.js';

describe('slugify (plain ESM imports)', () => {
  test('default and named exports are the same function', () => {
    expect(slugifyDefault).toBe(slugify);
  });

  test.each([
    ['Hello, World!', 'hello-world'],
    ['  Crème Brûlée  recipes ', 'creme-brulee-recipes'],
    ['ESM & Jest: 2 of 3', 'esm-jest-2-of-3'],
  ])('slugify(%j) -> %j', (input, expected) => {
    expect(slugify(input)).toBe(expected);
  });

  test('supports a custom separator and maximum length', () => {
    expect(slugify('a quick brown fox', { separator: '_' })).toBe('a_quick_brown_fox');
    expect(slugify('a quick brown fox', { maxLength: 8 })).toBe('a-quick');
  });

  test('appends a counter for taken slugs', () => {
    const taken = new Set(['release-notes', 'release-notes-2']);
    expect(uniqueSlug('Release Notes', taken)).toBe('release-notes-3');
    expect(uniqueSlug('Changelog', taken)).toBe('changelog');
  });

  test('import.meta.url points at this test file', () => {
    const file = fileURLToPath(import.meta.url);
    expect(path.basename(file)).toBe('slug.test.js');
    expect(path.basename(path.dirname(file))).toBe('test');
  });
});

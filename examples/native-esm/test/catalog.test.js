import { describe, expect, jest, test } from '@jest/globals';
import _ from 'lodash';
import { cheapestByCategory, loadCatalog } from '../src/catalog.js';

// Top-level await: the fixture is loaded once, before any test is collected.
const catalog = await loadCatalog();
const { slugify } = await import('../src/slug.js');

describe('catalog (top-level await and CommonJS interop)', () => {
  test('loads the catalog through import.meta.url', () => {
    expect(catalog).toHaveLength(5);
    expect(catalog.map((p) => slugify(p.name))).toEqual([
      'trail-mix',
      'granola',
      'headlamp',
      'compass',
      'map',
    ]);
  });

  test('imports a CommonJS package (lodash) as a default export', () => {
    expect(typeof _.groupBy).toBe('function');
    expect(_.sumBy(catalog, 'price')).toBeCloseTo(46.74, 2);
  });

  test('finds the cheapest product per category', () => {
    expect(cheapestByCategory(catalog)).toEqual({
      food: 'Granola',
      gear: 'Compass',
      paper: 'Map',
    });
  });

  test('jest.fn works with the imported jest object', () => {
    const onProduct = jest.fn();
    catalog.filter((p) => p.price < 5).forEach((p) => onProduct(p.name));
    expect(onProduct.mock.calls).toEqual([['Trail Mix'], ['Granola']]);
    console.log('cheap products:', onProduct.mock.calls.flat().join(', '));
  });

  test('awaits inside tests as usual', async () => {
    const again = await loadCatalog();
    expect(again).toEqual(catalog);
    expect(again).not.toBe(catalog);
  });
});

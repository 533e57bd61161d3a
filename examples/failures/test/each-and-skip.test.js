'use strict';

const { lineTotal } = require('../src/invoice');

describe('test.each with failing rows', () => {
  test.each([
    [{ quantity: 1, price: 9.99 }, 999],
    [{ quantity: 3, price: 0.1 }, 30],
    [{ quantity: 2, price: 1.5 }, 400],
    [{ quantity: 4, price: 2.25 }, 900],
    [{ quantity: 10, price: 0.07 }, 71],
  ])('lineTotal(%o) === %i', (line, expected) => {
    expect(lineTotal(line)).toBe(expected);
  });
});

describe.skip('skipped describe block', () => {
  test('is never run', () => {
    throw new Error('should not run');
  });

  test('is also never run', () => {
    expect(true).toBe(false);
  });
});

describe('skipped and todo tests', () => {
  test('passes: runs normally', () => {
    expect(lineTotal({ quantity: 1, price: 1 })).toBe(100);
  });

  test.skip('skipped test', () => {
    throw new Error('should not run');
  });

  test.todo('handles currency conversion');
  test.todo('rounds half-cents consistently');
});

'use strict';

const { line, money } = require('../src/invoice');

test('money prints through the serializer inline', () => {
  expect(money(1999)).toMatchInlineSnapshot(`19.99 EUR`);
});

test('a line, inline', () => {
  expect(line('Tea', 450, 2, 'reduced')).toMatchInlineSnapshot(`
{
  "description": "Tea",
  "net": 9.00 EUR,
  "quantity": 2,
  "rate": "reduced",
  "tax": 0.50 EUR,
  "unit": 4.50 EUR,
}
`);
});

test('an unknown rate, inline error snapshot', () => {
  expect(() => line('Tea', 450, 1, 'luxury')).toThrowErrorMatchingInlineSnapshot(`"Unknown tax rate "luxury" for "Tea""`);
});

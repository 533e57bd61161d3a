'use strict';

const { computeInvoice, normalizeCustomer, slugify } = require('../src/invoice');
const { ValidationError, parseQuantity } = require('../src/validation');

describe('assertion failures', () => {
  test('passes: computes a simple invoice', () => {
    expect(computeInvoice({ id: 'inv-1', lines: [{ quantity: 2, price: 10 }] })).toEqual({
      id: 'inv-1',
      subtotal: 2000,
      shipping: 499,
      total: 2499,
    });
  });

  test('fails: toEqual with an object diff', () => {
    const customer = normalizeCustomer({
      name: '  Ada Lovelace ',
      email: 'ADA@Example.com',
      tags: ['vip', 'beta', 'vip'],
      city: 'London',
      country: 'gb',
    });
    expect(customer).toEqual({
      name: 'Ada Lovelace',
      email: 'ada@example.com',
      tags: ['beta', 'early-adopter', 'vip'],
      address: { city: 'Cambridge', country: 'GB' },
    });
  });

  test('fails: toBe with primitives', () => {
    expect(slugify('Hello   Big World')).toBe('hello-big-world-');
  });

  test('fails: error thrown inside src helpers', () => {
    // The stack goes through parseQuantity -> lineTotal -> computeInvoice.
    computeInvoice({
      id: 'inv-2',
      lines: [
        { quantity: 1, price: 5 },
        { quantity: '2.5', price: 5 },
      ],
    });
  });

  test('fails: toThrow with a different message', () => {
    expect(() => parseQuantity(-3)).toThrow('expected a whole number');
  });

  test('fails: toThrow with a different error class', () => {
    expect(() => parseQuantity('abc')).toThrow(TypeError);
  });

  test('passes: toThrow with the right class', () => {
    expect(() => parseQuantity(0)).toThrow(ValidationError);
  });

  test('fails: console output before the failure', () => {
    const invoice = computeInvoice({ id: 'inv-3', lines: [{ quantity: 50, price: 1 }] });
    console.log('invoice inv-3:', invoice);
    console.warn('free shipping applied to inv-3');
    expect(invoice.shipping).toBe(499);
  });
});

'use strict';

// This module does not exist, so the whole file fails to load and Jest reports
// "Test suite failed to run" instead of individual test results.
const { formatInvoice } = require('../src/formatting');

describe('never collected', () => {
  test('formats an invoice', () => {
    expect(formatInvoice({ total: 100 })).toBe('$1.00');
  });

  test('formats an empty invoice', () => {
    expect(formatInvoice({ total: 0 })).toBe('$0.00');
  });
});

'use strict';

// Prints Money values as "12.34 EUR" in snapshots instead of their object shape.
module.exports = {
  test: (value) => value !== null && typeof value === 'object' && value.kind === 'money',
  serialize: (value) => `${(value.cents / 100).toFixed(2)} ${value.currency}`,
};

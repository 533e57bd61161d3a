'use strict';

class ValidationError extends Error {
  constructor(field, value, reason) {
    super(`Invalid ${field} ${JSON.stringify(value)}: ${reason}`);
    this.name = 'ValidationError';
    this.field = field;
  }
}

function parseQuantity(value) {
  const quantity = Number(value);
  if (!Number.isInteger(quantity)) {
    throw new ValidationError('quantity', value, 'expected a whole number');
  }
  if (quantity <= 0) {
    throw new ValidationError('quantity', value, 'must be positive');
  }
  return quantity;
}

function parsePrice(value) {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new ValidationError('price', value, 'expected a number');
  }
  return Math.round(value * 100);
}

module.exports = { ValidationError, parseQuantity, parsePrice };

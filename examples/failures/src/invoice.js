'use strict';

const { parsePrice, parseQuantity } = require('./validation');

function lineTotal(line) {
  const quantity = parseQuantity(line.quantity);
  const priceCents = parsePrice(line.price);
  return quantity * priceCents;
}

function computeInvoice(order) {
  let subtotal = 0;
  for (const line of order.lines) {
    subtotal += lineTotal(line);
  }
  const shipping = subtotal >= 5000 ? 0 : 499;
  return { id: order.id, subtotal, shipping, total: subtotal + shipping };
}

function normalizeCustomer(raw) {
  return {
    name: raw.name.trim(),
    email: raw.email.toLowerCase(),
    tags: [...new Set(raw.tags)].sort(),
    address: { city: raw.city, country: raw.country.toUpperCase() },
  };
}

async function fetchCustomer(id) {
  await Promise.resolve();
  if (id !== 'c-1') {
    throw new Error(`Customer ${id} not found`);
  }
  return { id, name: 'Ada' };
}

function slugify(text) {
  return text.toLowerCase().replace(/\s+/g, '-');
}

module.exports = { computeInvoice, lineTotal, normalizeCustomer, fetchCustomer, slugify };

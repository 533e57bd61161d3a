'use strict';

const money = (cents, currency = 'EUR') => ({ kind: 'money', cents, currency });

const TAX_RATES = { standard: 0.2, reduced: 0.055, zero: 0 };

function line(description, unitCents, quantity, rate = 'standard') {
  if (!Number.isInteger(quantity) || quantity <= 0) {
    throw new RangeError(`Quantity of "${description}" must be a positive whole number, got ${quantity}`);
  }
  if (!(rate in TAX_RATES)) throw new TypeError(`Unknown tax rate "${rate}" for "${description}"`);
  const net = unitCents * quantity;
  return { description, quantity, unit: money(unitCents), net: money(net), tax: money(Math.round(net * TAX_RATES[rate])), rate };
}

function invoice(number, lines, issuedAt = new Date()) {
  const net = lines.reduce((sum, l) => sum + l.net.cents, 0);
  const tax = lines.reduce((sum, l) => sum + l.tax.cents, 0);
  return { number, issuedAt, lines, totals: { net: money(net), tax: money(tax), gross: money(net + tax) } };
}

function render(inv) {
  const rows = inv.lines.map((l) => `${l.quantity} x ${l.description.padEnd(16)} ${(l.net.cents / 100).toFixed(2).padStart(8)}`);
  return [`Invoice ${inv.number}`, ...rows, `Total ${(inv.totals.gross.cents / 100).toFixed(2)} EUR`].join('\n');
}

module.exports = { money, line, invoice, render };

'use strict';

function money(cents, currency) {
  return `${(cents / 100).toFixed(2)} ${currency}`;
}

function buildReceipt(cart, { orderId, customer }) {
  const totals = cart.totals();
  return {
    orderId,
    customer,
    currency: cart.currency,
    lines: cart.lines.map((line) => ({
      description: `${line.quantity} x ${line.name}`,
      amount: money(line.unitCents * line.quantity, cart.currency),
      taxClass: line.taxClass,
    })),
    coupon: cart.coupon ? cart.coupon.code : undefined,
    totals: {
      net: money(totals.net, cart.currency),
      tax: money(totals.tax, cart.currency),
      discount: money(totals.discount, cart.currency),
      gross: money(totals.gross, cart.currency),
    },
  };
}

function renderReceipt(receipt) {
  const width = 32;
  const row = (left, right) => `${left}${' '.repeat(Math.max(1, width - left.length - right.length))}${right}`;
  return [
    `Order ${receipt.orderId}`,
    `Customer: ${receipt.customer}`,
    '-'.repeat(width),
    ...receipt.lines.map((line) => row(line.description, line.amount)),
    '-'.repeat(width),
    row('Net', receipt.totals.net),
    row('Tax', receipt.totals.tax),
    ...(receipt.coupon ? [row(`Coupon ${receipt.coupon}`, `-${receipt.totals.discount}`)] : []),
    row('Total', receipt.totals.gross),
  ].join('\n');
}

module.exports = { money, buildReceipt, renderReceipt };

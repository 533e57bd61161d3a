'use strict';

const TAX_RATES = { standard: 0.2, reduced: 0.05, zero: 0 };

class Cart {
  constructor(currency = 'EUR') {
    this.currency = currency;
    this.lines = [];
    this.coupon = null;
  }

  add(name, unitCents, quantity = 1, taxClass = 'standard') {
    if (!(taxClass in TAX_RATES)) throw new Error(`Unknown tax class: ${taxClass}`);
    if (quantity < 1) throw new RangeError('quantity must be at least 1');
    const existing = this.lines.find((line) => line.name === name);
    if (existing) {
      existing.quantity += quantity;
    } else {
      this.lines.push({ name, unitCents, quantity, taxClass });
    }
    return this;
  }

  applyCoupon(code) {
    const match = /^SAVE(\d{1,2})$/.exec(code);
    if (!match) throw new Error(`Invalid coupon: ${code}`);
    this.coupon = { code, percent: Number(match[1]) };
    return this;
  }

  totals() {
    let net = 0;
    let tax = 0;
    for (const line of this.lines) {
      const lineNet = line.unitCents * line.quantity;
      net += lineNet;
      tax += Math.round(lineNet * TAX_RATES[line.taxClass]);
    }
    const discount = this.coupon ? Math.round((net * this.coupon.percent) / 100) : 0;
    return { net, tax, discount, gross: net + tax - discount };
  }
}

module.exports = { Cart, TAX_RATES };

'use strict';

const { Cart } = require('../src/cart');

describe('Cart', () => {
  let cart;

  beforeEach(() => {
    cart = new Cart();
  });

  test('starts empty', () => {
    expect(cart.lines).toEqual([]);
    expect(cart.totals()).toEqual({ net: 0, tax: 0, discount: 0, gross: 0 });
  });

  test('merges repeated items', () => {
    cart.add('Coffee', 350).add('Coffee', 350, 2);
    expect(cart.lines).toHaveLength(1);
    expect(cart.lines[0].quantity).toBe(3);
  });

  test.each([
    ['standard', 1000, 200],
    ['reduced', 1000, 50],
    ['zero', 1000, 0],
  ])('applies %s tax', (taxClass, unitCents, tax) => {
    cart.add('Item', unitCents, 1, taxClass);
    expect(cart.totals().tax).toBe(tax);
  });

  test('applies percentage coupons to the net amount', () => {
    cart.add('Book', 2000, 1, 'zero').applyCoupon('SAVE15');
    expect(cart.totals()).toEqual({ net: 2000, tax: 0, discount: 300, gross: 1700 });
  });

  test('rejects bad input', () => {
    expect(() => cart.add('Thing', 100, 1, 'luxury')).toThrow('Unknown tax class: luxury');
    expect(() => cart.add('Thing', 100, 0)).toThrow(RangeError);
    expect(() => cart.applyCoupon('FREE')).toThrow('Invalid coupon: FREE');
  });
});

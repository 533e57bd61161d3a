'use strict';

const { Cart } = require('../src/cart');
const { buildReceipt, money, renderReceipt } = require('../src/receipt');

function sampleCart() {
  return new Cart('EUR')
    .add('Espresso beans', 1290, 2)
    .add('Milk', 119, 3, 'reduced')
    .add('Newspaper', 250, 1, 'zero')
    .applyCoupon('SAVE10');
}

describe('receipts', () => {
  test('formats money', () => {
    expect(money(0, 'EUR')).toBe('0.00 EUR');
    expect(money(123456, 'USD')).toBe('1234.56 USD');
  });

  test('builds a receipt object', () => {
    expect(buildReceipt(sampleCart(), { orderId: 'A-1001', customer: 'Ada' })).toMatchSnapshot();
  });

  test('renders a plain-text receipt', () => {
    const text = renderReceipt(buildReceipt(sampleCart(), { orderId: 'A-1001', customer: 'Ada' }));
    console.log(text);
    expect(text).toMatchSnapshot();
  });

  test('omits the coupon line when there is no coupon', () => {
    const cart = new Cart('GBP').add('Tea', 450);
    const receipt = buildReceipt(cart, { orderId: 'B-7', customer: 'Grace' });
    expect(receipt.coupon).toBeUndefined();
    expect(renderReceipt(receipt)).toMatchSnapshot('no coupon');
  });
});

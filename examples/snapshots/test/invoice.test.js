'use strict';

const { invoice, line, render } = require('../src/invoice');

const sample = () =>
  invoice('2026-0042', [line('Coffee beans', 1290, 2), line('Oat milk', 219, 3, 'reduced'), line('Gift card', 2500, 1, 'zero')]);

describe('invoices', () => {
  test('an invoice object (custom serializer for money)', () => {
    expect(sample()).toMatchSnapshot({ issuedAt: expect.any(Date) });
  });

  test('the rendered text', () => {
    expect(render(sample())).toMatchSnapshot();
  });

  test('bad quantities throw a clear error', () => {
    expect(() => line('Coffee beans', 1290, 0)).toThrowErrorMatchingSnapshot();
  });

  test.each([
    ['standard', 1000],
    ['reduced', 1000],
    ['zero', 1000],
  ])('tax at the %s rate', (rate, cents) => {
    expect(line('Item', cents, 1, rate).tax).toMatchSnapshot();
  });
});

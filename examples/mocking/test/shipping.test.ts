import { baseShippingCents, shippingQuote } from '../src/shipping';
import { fetchExchangeRate } from '../src/price-api';

// Factory mock + jest.requireActual: keep the real formatPrice, fake only the network call.
jest.mock('../src/price-api', () => {
  const actual = jest.requireActual('../src/price-api');
  return {
    ...actual,
    fetchExchangeRate: jest.fn(async (_from: string, to: string) => (to === 'EUR' ? 0.5 : 2)),
  };
});

describe('shippingQuote (partially mocked price-api)', () => {
  test.each([
    [0.5, 500],
    [1, 500],
    [1.2, 650],
    [3, 800],
  ])('base price for %p kg is %p cents', (weight, cents) => {
    expect(baseShippingCents(weight)).toBe(cents);
  });

  it('does not call the exchange-rate API for USD', async () => {
    await expect(shippingQuote(2, 'USD')).resolves.toBe('6.50 USD');
    expect(fetchExchangeRate).not.toHaveBeenCalled();
  });

  it('converts with the mocked rate and formats with the real formatter', async () => {
    await expect(shippingQuote(2, 'EUR')).resolves.toBe('3.25 EUR');
    await expect(shippingQuote(1, 'CAD')).resolves.toBe('10.00 CAD');
    expect(fetchExchangeRate).toHaveBeenNthCalledWith(1, 'USD', 'EUR');
    expect(fetchExchangeRate).toHaveBeenNthCalledWith(2, 'USD', 'CAD');
  });

  it('exposes the real module through jest.requireActual', () => {
    const actual = jest.requireActual<typeof import('../src/price-api')>('../src/price-api');
    expect(jest.isMockFunction(actual.fetchExchangeRate)).toBe(false);
    expect(actual.API_BASE).toBe('https://prices.example.invalid');
  });
});

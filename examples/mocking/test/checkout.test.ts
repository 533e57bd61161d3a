import { priceCart } from '../src/checkout';
import { fetchQuote, formatPrice } from '../src/price-api';
import { logger } from '../src/logger';

// Automock: every export of price-api becomes a jest.fn() returning undefined.
jest.mock('../src/price-api');
// Uses the manual mock in src/__mocks__/logger.ts.
jest.mock('../src/logger');

const mockedFetchQuote = jest.mocked(fetchQuote);

describe('priceCart (automocked price-api, manual-mocked logger)', () => {
  beforeEach(() => {
    jest.clearAllMocks();
  });

  it('automocks every export of the module', () => {
    expect(jest.isMockFunction(fetchQuote)).toBe(true);
    expect(jest.isMockFunction(formatPrice)).toBe(true);
    expect(formatPrice(100, 'USD')).toBeUndefined();
  });

  it('totals quotes returned by the mocked API', async () => {
    mockedFetchQuote.mockImplementation(async (sku) => ({
      sku,
      priceCents: sku === 'apple' ? 50 : 120,
      currency: 'USD',
    }));
    const cart = await priceCart([
      { sku: 'apple', quantity: 4 },
      { sku: 'bread', quantity: 1 },
    ]);
    expect(cart).toEqual({
      totalCents: 320,
      currency: 'USD',
      lines: [
        { sku: 'apple', quantity: 4, lineCents: 200 },
        { sku: 'bread', quantity: 1, lineCents: 120 },
      ],
    });
    expect(mockedFetchQuote.mock.calls).toEqual([['apple'], ['bread']]);
    expect(logger.info).toHaveBeenCalledWith('priced 2 line(s)');
  });

  it('rejects carts with mixed currencies', async () => {
    mockedFetchQuote
      .mockResolvedValueOnce({ sku: 'a', priceCents: 1, currency: 'USD' })
      .mockResolvedValueOnce({ sku: 'b', priceCents: 1, currency: 'EUR' });
    await expect(
      priceCart([
        { sku: 'a', quantity: 1 },
        { sku: 'b', quantity: 1 },
      ]),
    ).rejects.toThrow('Mixed currencies in cart: EUR, USD');
    expect(logger.info).not.toHaveBeenCalled();
  });

  it('propagates API failures', async () => {
    mockedFetchQuote.mockRejectedValue(new Error('Quote request for x failed with status 503'));
    await expect(priceCart([{ sku: 'x', quantity: 1 }])).rejects.toThrow('status 503');
  });

  it('warns (through the mocked logger) on an empty cart', async () => {
    await expect(priceCart([])).resolves.toMatchObject({ totalCents: 0, lines: [] });
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(mockedFetchQuote).not.toHaveBeenCalled();
  });
});

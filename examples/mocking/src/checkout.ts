import { fetchQuote } from './price-api';
import { logger } from './logger';

export interface CartItem {
  sku: string;
  quantity: number;
}

export interface PricedCart {
  totalCents: number;
  currency: string;
  lines: Array<{ sku: string; quantity: number; lineCents: number }>;
}

export async function priceCart(items: CartItem[]): Promise<PricedCart> {
  if (items.length === 0) {
    logger.warn('priceCart called with an empty cart');
    return { totalCents: 0, currency: 'USD', lines: [] };
  }
  const quotes = await Promise.all(items.map((item) => fetchQuote(item.sku)));
  const currencies = new Set(quotes.map((quote) => quote.currency));
  if (currencies.size > 1) {
    throw new Error(`Mixed currencies in cart: ${[...currencies].sort().join(', ')}`);
  }
  const lines = items.map((item, index) => ({
    sku: item.sku,
    quantity: item.quantity,
    lineCents: quotes[index].priceCents * item.quantity,
  }));
  const totalCents = lines.reduce((sum, line) => sum + line.lineCents, 0);
  logger.info(`priced ${items.length} line(s)`);
  return { totalCents, currency: quotes[0].currency, lines };
}

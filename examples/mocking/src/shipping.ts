import { fetchExchangeRate, formatPrice } from './price-api';

export function baseShippingCents(weightKg: number): number {
  if (weightKg <= 0) throw new RangeError('weight must be positive');
  return weightKg <= 1 ? 500 : 500 + Math.ceil(weightKg - 1) * 150;
}

export async function shippingQuote(weightKg: number, currency: string): Promise<string> {
  const usdCents = baseShippingCents(weightKg);
  const rate = currency === 'USD' ? 1 : await fetchExchangeRate('USD', currency);
  return formatPrice(Math.round(usdCents * rate), currency);
}

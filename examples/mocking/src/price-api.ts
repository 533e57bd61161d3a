// Thin client for a pricing service. The network functions are always mocked in tests.
export const API_BASE = 'https://prices.example.invalid';

export interface Quote {
  sku: string;
  priceCents: number;
  currency: string;
}

export async function fetchQuote(sku: string): Promise<Quote> {
  const res = await fetch(`${API_BASE}/quotes/${encodeURIComponent(sku)}`);
  if (!res.ok) {
    throw new Error(`Quote request for ${sku} failed with status ${res.status}`);
  }
  return (await res.json()) as Quote;
}

export async function fetchExchangeRate(from: string, to: string): Promise<number> {
  const res = await fetch(`${API_BASE}/rates?from=${from}&to=${to}`);
  const body = (await res.json()) as { rate: number };
  return body.rate;
}

export function formatPrice(cents: number, currency: string): string {
  return `${(cents / 100).toFixed(2)} ${currency}`;
}

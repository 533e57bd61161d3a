export interface Product {
  sku: string;
  name: string;
  priceCents: number;
}

export interface StockLine<P extends Product = Product> {
  product: P;
  quantity: number;
}

export type Discount = { kind: 'percent'; value: number } | { kind: 'fixed'; cents: number };

export function applyDiscount(totalCents: number, discount?: Discount): number {
  if (!discount) return totalCents;
  switch (discount.kind) {
    case 'percent':
      return Math.round(totalCents * (1 - discount.value / 100));
    case 'fixed':
      return Math.max(0, totalCents - discount.cents);
  }
}

export function formatCents(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}$${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

export class Inventory<P extends Product = Product> {
  private readonly lines = new Map<string, StockLine<P>>();

  add(product: P, quantity = 1): void {
    if (!Number.isInteger(quantity) || quantity <= 0) {
      throw new Error(`Invalid quantity for ${product.sku}: ${quantity}`);
    }
    const existing = this.lines.get(product.sku);
    if (existing) {
      existing.quantity += quantity;
    } else {
      this.lines.set(product.sku, { product, quantity });
    }
  }

  remove(sku: string, quantity = 1): number {
    const line = this.lines.get(sku);
    if (!line) {
      throw new Error(`Unknown SKU: ${sku}`);
    }
    if (quantity > line.quantity) {
      throw new Error(`Only ${line.quantity} of ${sku} in stock`);
    }
    line.quantity -= quantity;
    if (line.quantity === 0) {
      this.lines.delete(sku);
    }
    return line.quantity;
  }

  quantityOf(sku: string): number {
    return this.lines.get(sku)?.quantity ?? 0;
  }

  totalValue(discount?: Discount): number {
    let total = 0;
    for (const { product, quantity } of this.lines.values()) {
      total += product.priceCents * quantity;
    }
    return applyDiscount(total, discount);
  }

  lowStock(threshold: number): P[] {
    return [...this.lines.values()]
      .filter((line) => line.quantity < threshold)
      .map((line) => line.product)
      .sort((a, b) => a.sku.localeCompare(b.sku));
  }
}

import { applyDiscount, Discount, formatCents, Inventory, Product } from '../src/inventory';

interface Book extends Product {
  author: string;
}

const catalog: Record<string, Book> = {
  dune: { sku: 'BK-001', name: 'Dune', priceCents: 999, author: 'Frank Herbert' },
  emma: { sku: 'BK-002', name: 'Emma', priceCents: 550, author: 'Jane Austen' },
  ulysses: { sku: 'BK-003', name: 'Ulysses', priceCents: 1250, author: 'James Joyce' },
};

describe('inventory module', () => {
  describe('formatCents', () => {
    test.each`
      cents     | expected
      ${5}      | ${'$0.05'}
      ${123456} | ${'$1234.56'}
      ${-250}   | ${'-$2.50'}
    `('formats $cents as $expected', ({ cents, expected }) => {
      expect(formatCents(cents)).toBe(expected);
    });
  });

  describe('applyDiscount', () => {
    const cases: Array<[string, Discount | undefined, number]> = [
      ['10 percent', { kind: 'percent', value: 10 }, 900],
      ['fixed 2.50', { kind: 'fixed', cents: 250 }, 750],
      ['fixed larger than total', { kind: 'fixed', cents: 5000 }, 0],
    ];

    test.each(cases)('%s', (_label, discount, expected) => {
      expect(applyDiscount(1000, discount)).toBe(expected);
    });
  });

  describe('Inventory<Book>', () => {
    let inventory: Inventory<Book>;

    beforeEach(() => {
      inventory = new Inventory<Book>();
      inventory.add(catalog.dune, 3);
      inventory.add(catalog.emma, 1);
      inventory.add(catalog.ulysses, 2);
    });

    it('computes the total value with and without discounts', () => {
      expect(inventory.totalValue()).toBe(3 * 999 + 550 + 2 * 1250);
      console.log('inventory value:', formatCents(inventory.totalValue()));
      expect(formatCents(inventory.totalValue({ kind: 'percent', value: 50 }))).toBe('$30.24');
    });

    it('removes stock and drops empty lines', () => {
      expect(inventory.remove('BK-002')).toBe(0);
      expect(inventory.quantityOf('BK-002')).toBe(0);
      expect(() => inventory.remove('BK-002')).toThrow('Unknown SKU: BK-002');
      expect(() => inventory.remove('BK-003', 5)).toThrow('Only 2 of BK-003 in stock');
    });

    it('lists low-stock items sorted by SKU, keeping the Book type', () => {
      const low = inventory.lowStock(3);
      expect(low.map((book) => book.author)).toEqual(['Jane Austen', 'James Joyce']);
      expect(low[0]).toMatchObject({ sku: 'BK-002', name: 'Emma' });
    });

    it('accumulates quantities and rejects invalid ones', () => {
      inventory.add(catalog.dune, 2);
      expect(inventory.quantityOf('BK-001')).toBe(5);
      expect(() => inventory.add(catalog.emma, 0)).toThrow('Invalid quantity for BK-002: 0');
      expect(() => inventory.add(catalog.emma, 1.5)).toThrow(/Invalid quantity/);
    });
  });
});

import _ from 'lodash';

export interface Order {
  id: string;
  customer: string;
  totalCents: number;
}

export function revenueByCustomer(orders: Order[]): Record<string, number> {
  const grouped = _.groupBy(orders, 'customer');
  return _.mapValues(grouped, (list) => _.sumBy(list, 'totalCents'));
}

export function topCustomers(orders: Order[], n: number): string[] {
  const revenue = revenueByCustomer(orders);
  return _.take(_.orderBy(Object.keys(revenue), [(c) => revenue[c], (c) => c], ['desc', 'asc']), n);
}

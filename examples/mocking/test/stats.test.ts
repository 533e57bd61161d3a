import _ from 'lodash';
import { revenueByCustomer, topCustomers, Order } from '../src/stats';

// Automock an npm package: every lodash function becomes a jest.fn().
jest.mock('lodash');

const mockedLodash = jest.mocked(_);

const orders: Order[] = [
  { id: 'o1', customer: 'ada', totalCents: 1000 },
  { id: 'o2', customer: 'bob', totalCents: 500 },
  { id: 'o3', customer: 'ada', totalCents: 250 },
];

describe('stats with an automocked lodash', () => {
  beforeEach(() => {
    jest.resetAllMocks();
  });

  it('replaces lodash functions with mocks that return undefined', () => {
    expect(jest.isMockFunction(_.groupBy)).toBe(true);
    expect(jest.isMockFunction(_.chunk)).toBe(true);
    expect(_.chunk([1, 2, 3], 2)).toBeUndefined();
  });

  it('delegates grouping to lodash.groupBy by customer', () => {
    mockedLodash.groupBy.mockReturnValue({ ada: [orders[0], orders[2]] });
    mockedLodash.mapValues.mockImplementation(((obj: object, fn: (v: unknown) => unknown) =>
      Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, fn(v)]))) as never);
    mockedLodash.sumBy.mockReturnValue(42);

    expect(revenueByCustomer(orders)).toEqual({ ada: 42 });
    expect(mockedLodash.groupBy).toHaveBeenCalledWith(orders, 'customer');
    expect(mockedLodash.sumBy).toHaveBeenCalledWith([orders[0], orders[2]], 'totalCents');
  });

  it('can fall back to the real implementation with jest.requireActual', () => {
    const actual = jest.requireActual<typeof import('lodash')>('lodash');
    mockedLodash.groupBy.mockImplementation(actual.groupBy as never);
    mockedLodash.mapValues.mockImplementation(actual.mapValues as never);
    mockedLodash.sumBy.mockImplementation(actual.sumBy as never);
    mockedLodash.orderBy.mockImplementation(actual.orderBy as never);
    mockedLodash.take.mockImplementation(actual.take as never);

    expect(revenueByCustomer(orders)).toEqual({ ada: 1250, bob: 500 });
    expect(topCustomers(orders, 1)).toEqual(['ada']);
    console.log('top customers:', topCustomers(orders, 5));
  });
});

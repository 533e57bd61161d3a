'use strict';

const { fetchCustomer } = require('../src/invoice');

describe('async failures', () => {
  let slowTimer;

  afterEach(() => {
    clearTimeout(slowTimer);
  });

  test('passes: resolves a known customer', async () => {
    await expect(fetchCustomer('c-1')).resolves.toEqual({ id: 'c-1', name: 'Ada' });
  });

  test('fails: awaited promise rejects', async () => {
    const customer = await fetchCustomer('c-404');
    expect(customer.name).toBe('Ada');
  });

  test('fails: .resolves on a rejecting promise', async () => {
    await expect(fetchCustomer('c-2')).resolves.toMatchObject({ id: 'c-2' });
  });

  test('fails: rejects with a different message', async () => {
    await expect(fetchCustomer('c-3')).rejects.toThrow('Customer c-3 is archived');
  });

  test(
    'fails: exceeds its 100 ms timeout',
    async () => {
      await new Promise((resolve) => {
        slowTimer = setTimeout(resolve, 500);
      });
    },
    100,
  );
});

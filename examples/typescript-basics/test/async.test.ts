import { mapConcurrent, retry, sleep, TtlCache } from '../src/async-utils';

describe('async utilities', () => {
  describe('retry', () => {
    it('resolves on the first successful attempt', async () => {
      const fn = jest.fn(async (attempt: number) => `ok on ${attempt}`);
      await expect(retry(fn, { retries: 3 })).resolves.toBe('ok on 1');
      expect(fn).toHaveBeenCalledTimes(1);
    });

    it('retries until the function succeeds', async () => {
      const seen: string[] = [];
      const result = await retry(
        async (attempt) => {
          if (attempt < 3) throw new Error(`attempt ${attempt} failed`);
          return attempt;
        },
        {
          retries: 5,
          delayMs: 1,
          onRetry: (attempt, error) => seen.push(`${attempt}: ${error.message}`),
        },
      );
      expect(result).toBe(3);
      expect(seen).toEqual(['1: attempt 1 failed', '2: attempt 2 failed']);
    });

    it('rejects with the last error when all attempts fail', async () => {
      const onRetry = jest.fn();
      await expect(
        retry(
          async (attempt) => {
            throw new Error(`boom #${attempt}`);
          },
          { retries: 2, onRetry },
        ),
      ).rejects.toThrow('boom #3');
      expect(onRetry).toHaveBeenCalledTimes(2);
    });
  });

  describe('mapConcurrent', () => {
    it('preserves input order regardless of completion order', async () => {
      const delays = [15, 1, 8, 3];
      const result = await mapConcurrent(delays, 2, async (ms, index) => {
        await sleep(ms);
        return `${index}:${ms}`;
      });
      expect(result).toEqual(['0:15', '1:1', '2:8', '3:3']);
    });

    it('never exceeds the concurrency limit', async () => {
      let active = 0;
      let maxActive = 0;
      await mapConcurrent([1, 2, 3, 4, 5, 6], 3, async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        await sleep(2);
        active--;
      });
      expect(maxActive).toBe(3);
    });

    it('handles an empty list', async () => {
      await expect(mapConcurrent([], 4, async (x: number) => x)).resolves.toEqual([]);
    });
  });

  describe('TtlCache', () => {
    let clock: number;
    let cache: TtlCache<string, number>;

    beforeEach(() => {
      clock = 1_000;
      cache = new TtlCache<string, number>(500, () => clock);
    });

    it('expires entries after the TTL', () => {
      cache.set('a', 1);
      clock += 499;
      expect(cache.get('a')).toBe(1);
      clock += 1;
      expect(cache.get('a')).toBeUndefined();
    });

    it('loads missing values once and then serves them from the cache', async () => {
      const loader = jest.fn(async (key: string) => key.length);
      expect(await cache.getOrLoad('hello', loader)).toBe(5);
      expect(await cache.getOrLoad('hello', loader)).toBe(5);
      expect(loader).toHaveBeenCalledTimes(1);
      console.log('loader calls:', loader.mock.calls);
    });
  });
});

import { debounce, describeExpiry, Heartbeat, withTimeout } from '../src/scheduler';

describe('scheduler with modern fake timers', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: new Date('2024-03-01T12:00:00.000Z') });
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  it('debounces bursts of calls', () => {
    const save = jest.fn();
    const debouncedSave = debounce(save, 200);
    debouncedSave('a');
    jest.advanceTimersByTime(150);
    debouncedSave('b');
    jest.advanceTimersByTime(150);
    expect(save).not.toHaveBeenCalled();
    jest.advanceTimersByTime(50);
    expect(save).toHaveBeenCalledTimes(1);
    expect(save).toHaveBeenCalledWith('b');
  });

  it('cancels a pending debounced call', () => {
    const save = jest.fn();
    const debouncedSave = debounce(save, 100);
    debouncedSave();
    expect(jest.getTimerCount()).toBe(1);
    debouncedSave.cancel();
    jest.runAllTimers();
    expect(save).not.toHaveBeenCalled();
  });

  it('fires intervals deterministically', () => {
    const beats: number[] = [];
    const heartbeat = new Heartbeat((beat) => beats.push(beat), 1000);
    heartbeat.start();
    jest.advanceTimersByTime(3500);
    expect(beats).toEqual([1, 2, 3]);
    heartbeat.stop();
    jest.advanceTimersByTime(10_000);
    expect(heartbeat.beats).toBe(3);
  });

  it('rejects slow promises with withTimeout', async () => {
    const never = new Promise<string>(() => {});
    const result = withTimeout(never, 5000, 'loadProfile');
    jest.advanceTimersByTime(5000);
    await expect(result).rejects.toThrow('loadProfile timed out after 5000 ms');
  });

  it('resolves fast promises before the timeout', async () => {
    const fast = new Promise<string>((resolve) => setTimeout(() => resolve('done'), 100));
    const result = withTimeout(fast, 5000, 'loadProfile');
    await jest.advanceTimersByTimeAsync(100);
    await expect(result).resolves.toBe('done');
    expect(jest.getTimerCount()).toBe(0);
  });

  it('controls Date.now() through the fake system time', () => {
    expect(new Date().toISOString()).toBe('2024-03-01T12:00:00.000Z');
    const expiresAt = new Date('2024-03-01T12:10:00.000Z');
    expect(describeExpiry(expiresAt)).toBe('expires in 10 minutes');
    jest.advanceTimersByTime(9 * 60_000 + 30_000);
    expect(describeExpiry(expiresAt)).toBe('expires in 1 minute');
    jest.setSystemTime(new Date('2024-03-02T00:00:00.000Z'));
    expect(describeExpiry(expiresAt)).toBe('expired');
  });
});

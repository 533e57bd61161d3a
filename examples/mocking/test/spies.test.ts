import { flagStore, isEnabled, shouldSample } from '../src/feature-flags';

describe('jest.spyOn', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('replaces a method implementation and restores it', () => {
    const spy = jest
      .spyOn(flagStore, 'fetchFlags')
      .mockImplementation(() => ({ darkMode: true, betaCheckout: false }));
    expect(isEnabled('darkMode')).toBe(true);
    expect(spy).toHaveBeenCalledTimes(1);

    spy.mockRestore();
    expect(jest.isMockFunction(flagStore.fetchFlags)).toBe(false);
    expect(isEnabled('darkMode')).toBe(false);
  });

  it('spies without changing behaviour', () => {
    const spy = jest.spyOn(flagStore, 'fetchFlags');
    expect(isEnabled('betaCheckout')).toBe(false);
    expect(spy).toHaveReturnedWith({ darkMode: false, betaCheckout: false });
  });

  it('silences and asserts console.warn', () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
    expect(isEnabled('newSearch')).toBe(false);
    expect(warn).toHaveBeenCalledWith('Unknown feature flag "newSearch"');
  });

  it('lets an unmocked console.warn through to the reporter', () => {
    expect(isEnabled('legacyExport')).toBe(false);
  });

  it('makes Math.random deterministic', () => {
    const random = jest.spyOn(Math, 'random').mockReturnValueOnce(0.1).mockReturnValueOnce(0.9);
    expect(shouldSample(0.5)).toBe(true);
    expect(shouldSample(0.5)).toBe(false);
    expect(random).toHaveBeenCalledTimes(2);
    console.log('sampling decisions checked');
  });
});

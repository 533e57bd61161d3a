type ConfigModule = typeof import('../src/config');

const loadConfig = (): ConfigModule => require('../src/config');

describe('module state: resetModules and isolateModules', () => {
  const originalEnv = process.env;

  beforeEach(() => {
    jest.resetModules();
    process.env = { ...originalEnv };
    delete process.env.APP_MODE;
    delete process.env.APP_RETRIES;
  });

  afterAll(() => {
    process.env = originalEnv;
  });

  it('evaluates the environment once, at first import', () => {
    process.env.APP_MODE = 'production';
    const first = loadConfig();
    expect(first.config.mode).toBe('production');

    process.env.APP_MODE = 'development';
    // Same registry: the cached module (and its frozen config) is returned.
    expect(loadConfig()).toBe(first);
    expect(loadConfig().config.mode).toBe('production');
  });

  it('gets a fresh module instance after jest.resetModules()', () => {
    process.env.APP_RETRIES = '7';
    const before = loadConfig();
    before.getSetting('retries');
    expect(before.readCount()).toBe(1);

    jest.resetModules();
    process.env.APP_RETRIES = '1';
    const after = loadConfig();
    expect(after).not.toBe(before);
    expect(after.readCount()).toBe(0);
    expect(after.config).toEqual({ mode: 'development', apiUrl: 'http://localhost:3000', retries: 1 });
  });

  it('sandboxes a registry with jest.isolateModules()', () => {
    const shared = loadConfig();
    let isolated: ConfigModule | undefined;
    jest.isolateModules(() => {
      process.env.APP_MODE = 'production';
      isolated = loadConfig();
    });
    expect(isolated).toBeDefined();
    expect(isolated).not.toBe(shared);
    expect(isolated!.getSetting('apiUrl')).toBe('https://api.example.invalid');
    expect(shared.getSetting('apiUrl')).toBe('http://localhost:3000');
    // The module outside the sandbox is the one cached before it.
    expect(loadConfig()).toBe(shared);
  });

  it('starts each test from a clean registry (beforeEach resetModules)', () => {
    expect(loadConfig().readCount()).toBe(0);
  });
});

import { defaultHeaders, describeShadowing, userAgent } from '../src/http-client';

describe('http client headers', () => {
  test('builds the user agent from inlined constants', () => {
    expect(userAgent()).toBe('example-babel-plugin/2.7.1 (node)');
    expect(userAgent('lambda')).toBe('example-babel-plugin/2.7.1 (lambda)');
  });

  test('adds version headers', () => {
    const headers = defaultHeaders({ Accept: 'application/json' });
    console.log('request headers:', headers);
    expect(headers).toEqual({
      'User-Agent': 'example-babel-plugin/2.7.1 (node)',
      'X-Client-Version': '2.7.1',
      Accept: 'application/json',
    });
  });

  test('the compiled function contains the literal, not the identifier', () => {
    const source = userAgent.toString();
    expect(source).toMatch(/["']2\.7\.1["']/);
    expect(source).not.toContain('__APP_VERSION__');
  });

  test('leaves locally shadowed identifiers alone', () => {
    expect(describeShadowing()).toBe('local-value');
    expect(describeShadowing.toString()).toContain('__APP_VERSION__');
  });

  test('property keys with the same name are not replaced', () => {
    const build = { __APP_VERSION__: 'from-object' };
    expect(build.__APP_VERSION__).toBe('from-object');
    expect(Object.keys(build)).toEqual(['__APP_VERSION__']);
  });
});

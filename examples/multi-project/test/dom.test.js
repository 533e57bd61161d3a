const hasDom = typeof document !== 'undefined';

(hasDom ? describe : describe.skip)('with a DOM (jsdom project only)', () => {
  test('creates and queries elements', () => {
    document.body.innerHTML = '<ul><li class="a">one</li><li class="a">two</li></ul>';
    expect(document.querySelectorAll('li.a')).toHaveLength(2);
  });
});

test('the global object matches the project', () => {
  expect(typeof globalThis).toBe('object');
  expect(hasDom).toBe(typeof window !== 'undefined');
});

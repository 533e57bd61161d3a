import { EmptyStackError, Stack } from '../src/stack';

describe('Stack', () => {
  let stack: Stack<number>;

  beforeEach(() => {
    stack = new Stack<number>();
  });

  describe('push and pop', () => {
    it('starts empty', () => {
      expect(stack.isEmpty()).toBe(true);
      expect(stack.size).toBe(0);
    });

    it('pops items in LIFO order', () => {
      stack.push(1).push(2).push(3);
      expect(stack.pop()).toBe(3);
      expect(stack.pop()).toBe(2);
      expect(stack.size).toBe(1);
    });

    it('throws a typed error when popping an empty stack', () => {
      expect(() => stack.pop()).toThrow(EmptyStackError);
      expect(() => stack.peek()).toThrow('Cannot peek an empty stack');
    });
  });

  describe('with a capacity', () => {
    it('rejects pushes beyond capacity', () => {
      const bounded = new Stack<string>(2);
      bounded.push('a').push('b');
      expect(bounded.isFull()).toBe(true);
      expect(() => bounded.push('c')).toThrow(new RangeError('Stack is full (capacity 2)'));
    });

    it.each([0, -1, -100])('rejects a non-positive capacity of %i', (capacity) => {
      expect(() => new Stack(capacity)).toThrow(RangeError);
    });
  });

  describe('map', () => {
    it('maps to a stack of another type, preserving order', () => {
      stack.push(1).push(2).push(3);
      const labels: Stack<string> = stack.map((n) => `#${n}`);
      expect(labels.toArray()).toEqual(['#3', '#2', '#1']);
      expect(labels.peek()).toBe('#3');
    });
  });
});

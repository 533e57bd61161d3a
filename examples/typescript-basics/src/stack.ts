export class EmptyStackError extends Error {
  constructor(operation: string) {
    super(`Cannot ${operation} an empty stack`);
    this.name = 'EmptyStackError';
  }
}

/** A simple LIFO stack with an optional capacity limit. */
export class Stack<T> {
  private readonly items: T[] = [];

  constructor(private readonly capacity: number = Infinity) {
    if (capacity <= 0) {
      throw new RangeError('capacity must be positive');
    }
  }

  get size(): number {
    return this.items.length;
  }

  isEmpty(): boolean {
    return this.items.length === 0;
  }

  isFull(): boolean {
    return this.items.length >= this.capacity;
  }

  push(item: T): this {
    if (this.isFull()) {
      throw new RangeError(`Stack is full (capacity ${this.capacity})`);
    }
    this.items.push(item);
    return this;
  }

  pop(): T {
    if (this.isEmpty()) {
      throw new EmptyStackError('pop');
    }
    return this.items.pop() as T;
  }

  peek(): T {
    if (this.isEmpty()) {
      throw new EmptyStackError('peek');
    }
    return this.items[this.items.length - 1];
  }

  toArray(): T[] {
    return [...this.items].reverse();
  }

  map<U>(fn: (item: T) => U): Stack<U> {
    const result = new Stack<U>(this.capacity);
    for (const item of this.items) {
      result.push(fn(item));
    }
    return result;
  }
}

import { useState } from 'react';

export function Counter({ initial = 0, step = 1, max = Infinity, onLimit }) {
  const [count, setCount] = useState(initial);

  const increment = () => {
    const next = count + step;
    if (next > max) {
      onLimit?.(count);
      return;
    }
    setCount(next);
  };

  return (
    <section aria-label="counter">
      <p>
        Count: <output data-testid="count">{count}</output>
      </p>
      <button type="button" onClick={increment} disabled={count + step > max && !onLimit}>
        Increment
      </button>
      <button type="button" onClick={() => setCount(count - step)}>
        Decrement
      </button>
      <button type="button" onClick={() => setCount(initial)} disabled={count === initial}>
        Reset
      </button>
    </section>
  );
}

import { useState } from 'react';

let nextId = 1;

export function TodoItem({ todo, onToggle, onRemove }) {
  return (
    <li className={todo.done ? 'done' : undefined}>
      <label>
        <input type="checkbox" checked={todo.done} onChange={() => onToggle(todo.id)} />
        {todo.title}
      </label>
      <button type="button" aria-label={`Remove ${todo.title}`} onClick={() => onRemove(todo.id)}>
        ×
      </button>
    </li>
  );
}

export function TodoApp({ initialTodos = [] }) {
  const [todos, setTodos] = useState(initialTodos);
  const [draft, setDraft] = useState('');
  const [error, setError] = useState(null);

  const addTodo = (event) => {
    event.preventDefault();
    const title = draft.trim();
    if (!title) {
      setError('Title is required');
      return;
    }
    if (todos.some((todo) => todo.title.toLowerCase() === title.toLowerCase())) {
      setError(`"${title}" is already on the list`);
      return;
    }
    setTodos([...todos, { id: `new-${nextId++}`, title, done: false }]);
    setDraft('');
    setError(null);
  };

  const toggle = (id) =>
    setTodos(todos.map((todo) => (todo.id === id ? { ...todo, done: !todo.done } : todo)));
  const remove = (id) => setTodos(todos.filter((todo) => todo.id !== id));
  const remaining = todos.filter((todo) => !todo.done).length;

  return (
    <div>
      <form onSubmit={addTodo} aria-label="add todo">
        <input
          aria-label="New todo"
          value={draft}
          onChange={(event) => setDraft(event.target.value)}
          placeholder="What needs doing?"
        />
        <button type="submit">Add</button>
      </form>
      {error && <p role="alert">{error}</p>}
      {todos.length === 0 ? (
        <p>Nothing to do!</p>
      ) : (
        <ul>
          {todos.map((todo) => (
            <TodoItem key={todo.id} todo={todo} onToggle={toggle} onRemove={remove} />
          ))}
        </ul>
      )}
      <footer>{remaining === 1 ? '1 item left' : `${remaining} items left`}</footer>
    </div>
  );
}

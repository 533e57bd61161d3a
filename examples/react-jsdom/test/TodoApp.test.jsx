import { fireEvent, render, screen, within } from '@testing-library/react';
import { TodoApp } from '../src/TodoApp';

const seed = [
  { id: 't1', title: 'Buy milk', done: false },
  { id: 't2', title: 'Write tests', done: true },
];

function addTodo(title) {
  fireEvent.change(screen.getByLabelText('New todo'), { target: { value: title } });
  fireEvent.click(screen.getByRole('button', { name: 'Add' }));
}

describe('<TodoApp />', () => {
  it('shows an empty state', () => {
    render(<TodoApp />);
    expect(screen.getByText('Nothing to do!')).toBeInTheDocument();
    expect(screen.getByText('0 items left')).toBeVisible();
  });

  it('renders seeded todos with their completion state', () => {
    render(<TodoApp initialTodos={seed} />);
    const items = screen.getAllByRole('listitem');
    expect(items).toHaveLength(2);
    expect(within(items[0]).getByRole('checkbox')).not.toBeChecked();
    expect(within(items[1]).getByRole('checkbox')).toBeChecked();
    expect(items[1]).toHaveClass('done');
    expect(screen.getByText('1 item left')).toBeInTheDocument();
  });

  it('adds a todo and clears the input', () => {
    render(<TodoApp initialTodos={seed} />);
    addTodo('  Walk the dog ');
    expect(screen.getByLabelText('Walk the dog')).not.toBeChecked();
    expect(screen.getByLabelText('New todo')).toHaveValue('');
    expect(screen.getByText('2 items left')).toBeInTheDocument();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('validates empty and duplicate titles', () => {
    render(<TodoApp initialTodos={seed} />);
    addTodo('   ');
    expect(screen.getByRole('alert')).toHaveTextContent('Title is required');
    addTodo('buy MILK');
    expect(screen.getByRole('alert')).toHaveTextContent('"buy MILK" is already on the list');
    expect(screen.getAllByRole('listitem')).toHaveLength(2);
  });

  it('toggles and removes todos', () => {
    render(<TodoApp initialTodos={seed} />);
    fireEvent.click(screen.getByLabelText('Buy milk'));
    expect(screen.getByText('0 items left')).toBeInTheDocument();
    fireEvent.click(screen.getByRole('button', { name: 'Remove Write tests' }));
    expect(screen.queryByText('Write tests')).not.toBeInTheDocument();
    console.log('remaining todos:', screen.getAllByRole('listitem').map((li) => li.textContent));
  });
});

import { fireEvent, render, screen } from '@testing-library/react';
import { Counter } from '../src/Counter';

describe('<Counter />', () => {
  it('renders the initial count', () => {
    render(<Counter initial={5} />);
    expect(screen.getByTestId('count')).toHaveTextContent('5');
    expect(screen.getByRole('button', { name: 'Reset' })).toBeDisabled();
  });

  it('increments and decrements by the step', () => {
    render(<Counter step={2} />);
    const increment = screen.getByRole('button', { name: 'Increment' });
    fireEvent.click(increment);
    fireEvent.click(increment);
    expect(screen.getByTestId('count')).toHaveTextContent('4');
    fireEvent.click(screen.getByRole('button', { name: 'Decrement' }));
    expect(screen.getByTestId('count')).toHaveTextContent('2');
  });

  it('resets to the initial value', () => {
    render(<Counter initial={1} />);
    fireEvent.click(screen.getByRole('button', { name: 'Increment' }));
    const reset = screen.getByRole('button', { name: 'Reset' });
    expect(reset).toBeEnabled();
    fireEvent.click(reset);
    expect(screen.getByTestId('count')).toHaveTextContent('1');
    expect(reset).toBeDisabled();
  });

  it('disables Increment at the maximum', () => {
    render(<Counter initial={2} max={3} />);
    fireEvent.click(screen.getByRole('button', { name: 'Increment' }));
    expect(screen.getByTestId('count')).toHaveTextContent('3');
    expect(screen.getByRole('button', { name: 'Increment' })).toBeDisabled();
  });

  it('reports the limit through onLimit instead of disabling', () => {
    const onLimit = jest.fn((value) => console.log(`limit reached at ${value}`));
    render(<Counter max={1} onLimit={onLimit} />);
    const increment = screen.getByRole('button', { name: 'Increment' });
    fireEvent.click(increment);
    fireEvent.click(increment);
    expect(onLimit).toHaveBeenCalledTimes(1);
    expect(onLimit).toHaveBeenCalledWith(1);
    expect(screen.getByTestId('count')).toHaveTextContent('1');
  });
});

import { fireEvent, render, screen } from '@testing-library/react';
import { LoginForm, validate } from '../src/LoginForm';

function fillIn(email, password) {
  fireEvent.change(screen.getByLabelText('Email'), { target: { value: email } });
  fireEvent.change(screen.getByLabelText('Password'), { target: { value: password } });
}

describe('validate', () => {
  it.each([
    ['ok@example.com', 'longenough', {}],
    ['not-an-email', 'longenough', { email: 'Enter a valid email address' }],
    ['ok@example.com', 'short', { password: 'Password must be at least 8 characters' }],
  ])('validate(%s, %s)', (email, password, expected) => {
    expect(validate({ email, password })).toEqual(expected);
  });
});

describe('<LoginForm />', () => {
  it('shows field errors and does not submit invalid input', () => {
    const onSubmit = jest.fn();
    render(<LoginForm onSubmit={onSubmit} />);
    fillIn('nope', '123');
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    const alerts = screen.getAllByRole('alert').map((el) => el.textContent);
    expect(alerts).toEqual(['Enter a valid email address', 'Password must be at least 8 characters']);
    expect(onSubmit).not.toHaveBeenCalled();
  });

  it('submits valid input and shows a welcome message', async () => {
    const onSubmit = jest.fn().mockResolvedValue(undefined);
    render(<LoginForm onSubmit={onSubmit} />);
    fillIn('ada@example.com', 'correct horse');
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('status')).toHaveTextContent('Welcome back, ada@example.com!');
    expect(onSubmit).toHaveBeenCalledWith({ email: 'ada@example.com', password: 'correct horse' });
  });

  it('shows a server error and re-enables the button', async () => {
    const onSubmit = jest.fn().mockRejectedValue(new Error('Invalid credentials'));
    render(<LoginForm onSubmit={onSubmit} />);
    fillIn('ada@example.com', 'wrong password');
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByText('Invalid credentials')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Sign in' })).toBeEnabled();
    expect(screen.getByLabelText('Password')).toHaveAttribute('type', 'password');
  });
});

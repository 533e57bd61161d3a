import { useState } from 'react';

export function validate({ email, password }) {
  const errors = {};
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) errors.email = 'Enter a valid email address';
  if (password.length < 8) errors.password = 'Password must be at least 8 characters';
  return errors;
}

export function LoginForm({ onSubmit }) {
  const [values, setValues] = useState({ email: '', password: '' });
  const [errors, setErrors] = useState({});
  const [status, setStatus] = useState('idle');

  const update = (field) => (event) => setValues({ ...values, [field]: event.target.value });

  const submit = async (event) => {
    event.preventDefault();
    const found = validate(values);
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    setStatus('submitting');
    try {
      await onSubmit(values);
      setStatus('success');
    } catch (err) {
      setStatus('error');
      setErrors({ form: err.message });
    }
  };

  if (status === 'success') {
    return <p role="status">Welcome back, {values.email}!</p>;
  }

  return (
    <form onSubmit={submit} noValidate>
      <label htmlFor="email">Email</label>
      <input id="email" type="email" value={values.email} onChange={update('email')} />
      {errors.email && <span role="alert">{errors.email}</span>}
      <label htmlFor="password">Password</label>
      <input id="password" type="password" value={values.password} onChange={update('password')} />
      {errors.password && <span role="alert">{errors.password}</span>}
      {errors.form && <p role="alert">{errors.form}</p>}
      <button type="submit" disabled={status === 'submitting'}>
        {status === 'submitting' ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );
}

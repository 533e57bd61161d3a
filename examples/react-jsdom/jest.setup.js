// Adds DOM matchers such as toBeInTheDocument() and toHaveTextContent() to expect.
require('@testing-library/jest-dom');

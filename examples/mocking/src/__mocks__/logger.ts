// Manual mock adjacent to src/logger.ts; used by tests that call jest.mock('../src/logger').
export const logger = {
  info: jest.fn(),
  warn: jest.fn(),
};

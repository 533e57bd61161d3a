/** @type {import('jest').Config} */
module.exports = {
  runner: 'remote-lambda',
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // babel-jest is the default transform; it picks up babel.config.js.
};

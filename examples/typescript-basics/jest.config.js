/** @type {import('jest').Config} */
module.exports = {
  runner: 'remote-lambda',
  preset: 'ts-jest',
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/**/*.test.ts'],
};

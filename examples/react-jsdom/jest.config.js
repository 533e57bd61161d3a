/** @type {import('jest').Config} */
module.exports = {
  runner: 'remote-lambda',
  testEnvironment: 'jsdom',
  setupFilesAfterEnv: ['<rootDir>/jest.setup.js'],
  testMatch: ['<rootDir>/test/**/*.test.jsx'],
};

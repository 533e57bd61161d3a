/** @type {import('jest').Config} */
export default {
  runner: 'remote-lambda',
  testEnvironment: 'node',
  // No transforms: test and source files are loaded as native ES modules.
  transform: {},
  testMatch: ['<rootDir>/test/**/*.test.js'],
};

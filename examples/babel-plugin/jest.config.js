/** @type {import('jest').Config} */
module.exports = {
  runner: 'remote-lambda',
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/**/*.test.js'],
  // babel-jest (the default transform) applies babel.config.js, including the
  // local plugin ./babel-plugin-inline-version.js.
};

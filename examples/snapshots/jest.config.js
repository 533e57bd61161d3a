/** @type {import('jest').Config} */
module.exports = {
  runner: 'remote-lambda',
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/**/*.test.js'],
  snapshotSerializers: ['<rootDir>/serializers/money.js'],
};

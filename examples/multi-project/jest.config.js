/** One suite, two Jest projects: the same files run under Node and under jsdom. */
module.exports = {
  projects: [
    { displayName: 'node', runner: 'remote-lambda', testEnvironment: 'node', testMatch: ['<rootDir>/test/**/*.test.js'] },
    { displayName: 'dom', runner: 'remote-lambda', testEnvironment: 'jsdom', testMatch: ['<rootDir>/test/**/*.test.js'] },
  ],
};

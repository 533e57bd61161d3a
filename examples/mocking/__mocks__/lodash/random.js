// Root-level manual mock for the npm module 'lodash/random'.
// Mocks of node_modules packages placed in <rootDir>/__mocks__ are applied
// automatically: no jest.mock('lodash/random') call is needed in the tests.
// It always returns the (floored) midpoint of the range, so results are deterministic.
const random = jest.fn((lower = 0, upper = 1) => Math.floor((lower + upper) / 2));

module.exports = random;

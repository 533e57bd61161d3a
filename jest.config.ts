/** @jest-config-loader esbuild-register */
/** Our own suite (unit tests and end-to-end parity tests); runs with Jest's default runner. */
import type { Config } from 'jest';

export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testTimeout: 240_000,
  // Parity tests spawn Jest twice per example; more than 2 at once would starve a 2-core machine.
  maxWorkers: 2,
} satisfies Config;

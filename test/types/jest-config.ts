/**
 * Compile-time checks of the options type (run by `npm run typecheck`, part of `npm test`): the
 * README's jest.config.ts example compiles, and wrong names or types are errors.
 */
import type { Config } from 'jest';
import { defineRemoteLambdaOptions, type RemoteLambdaOptions } from '../../src';

export const readmeExample = {
  runner: ['remote-lambda', { backend: 'lambda', function: 'jest-remote', concurrency: 200 } satisfies RemoteLambdaOptions],
} satisfies Config;

export const withHelper = { runner: ['remote-lambda', defineRemoteLambdaOptions({ bucket: 'team-cache', exclude: ['assets/**'] })] } satisfies Config;

// @ts-expect-error an unknown option (a typo of "workers")
export const typo: RemoteLambdaOptions = { worker: 2 };
// @ts-expect-error a backend that does not exist
export const badBackend: RemoteLambdaOptions = { backend: 'azure' };
// @ts-expect-error concurrency is a number
export const badType = defineRemoteLambdaOptions({ concurrency: '50' });

export { RemoteLambdaOptionsSchema, defineRemoteLambdaOptions, envName, CONFIG_FILE_NAMES, type RemoteLambdaOptions, type ResolvedOptions } from './schema';
export { resolveOptions } from './resolve';
export { resolveRun, type RunSettings } from './run';

/** What the answers say about where they were made: for the cost estimate, platform packages, native ESM and version warnings. */
import vm from 'node:vm';
import type { Host } from '../src/protocol';

export function host(): Host {
  const memory = Number(process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
  return {
    node: process.version,
    arch: process.arch,
    ...(memory > 0 ? { memoryMb: memory } : {}),
    platform: process.platform,
    vmModules: typeof (vm as { SourceTextModule?: unknown }).SourceTextModule === 'function',
  };
}

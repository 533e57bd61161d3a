/**
 * The only definition of what crosses a process or network boundary between the runner (src/)
 * and the handler (handler/). Both sides parse with these schemas; nothing else is trusted.
 */
import { z } from 'zod';

export const PROTOCOL_VERSION = 1;

export const HashSchema = z.string().regex(/^[0-9a-f]{64}$/, 'expected a lowercase sha256 hex digest');
export type Hash = z.infer<typeof HashSchema>;

/** A path inside the mirrored tree: relative, POSIX separators, never escaping the root. */
export const RelativePathSchema = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !/^[a-zA-Z]:/.test(p), 'must be relative, not absolute')
  .refine((p) => !p.includes('\\') && !p.includes('\0'), 'must use "/" separators and no NUL bytes')
  .refine((p) => p.split('/').every((s) => s !== '..' && s !== '.' && s !== ''), 'must not contain "..", "." or empty segments');

export const FileEntrySchema = z.object({
  path: RelativePathSchema,
  hash: HashSchema,
  size: z.number().int().nonnegative(),
  executable: z.boolean().optional(),
});
export type FileEntry = z.infer<typeof FileEntrySchema>;

/**
 * A symbolic link in the mirror. `target` is either relative to the link's directory (must stay
 * inside the mirror) or, for the embedded local backend only, an absolute local path
 * (node_modules are linked, not copied, when the worker shares the developer's disk).
 */
export const LinkEntrySchema = z.object({
  path: RelativePathSchema,
  target: z.string().min(1),
});
export type LinkEntry = z.infer<typeof LinkEntrySchema>;

export const ManifestSchema = z.object({
  files: z.array(FileEntrySchema),
  links: z.array(LinkEntrySchema),
  dirs: z.array(RelativePathSchema),
});
export type Manifest = z.infer<typeof ManifestSchema>;

export const JestRuntimeSchema = z.object({
  /** Version of the user's Jest (`jest-runner` package), e.g. "30.5.2". */
  version: z.string(),
  /** Absolute local paths of the user's own Jest packages' entry points. */
  runner: z.string(),
  runtime: z.string(),
  hasteMap: z.string(),
});
export type JestRuntime = z.infer<typeof JestRuntimeSchema>;

/** Everything that is the same for all test files of one Jest project in one run. */
export const ProjectPayloadSchema = z.object({
  key: HashSchema,
  /** Absolute local directory that the remote root stands for. */
  localBase: z.string().min(1),
  /** The prefix under which the local backend already materialized the tree (ignored remotely). */
  preparedRoot: z.string().optional(),
  manifest: ManifestSchema,
  cwd: z.string(),
  jest: JestRuntimeSchema,
  /** Jest's normalized ProjectConfig and GlobalConfig, JSON round-tripped, local paths. */
  config: z.record(z.string(), z.unknown()),
  globalConfig: z.record(z.string(), z.unknown()),
  /** `moduleMap.toJSON()` of the local test context (paths relative to rootDir). */
  moduleMap: z.unknown(),
  /** Environment variables to set in the remote process (allowlisted by the runner). */
  env: z.record(z.string(), z.string()),
});
export type ProjectPayload = z.infer<typeof ProjectPayloadSchema>;

export const RunRequestSchema = z.object({
  protocolVersion: z.literal(PROTOCOL_VERSION),
  runId: z.string().min(1),
  projectKey: HashSchema,
  /** Sent when the handler answered `need-project` (or proactively on a first request). */
  project: ProjectPayloadSchema.optional(),
  /** Jest's own choice for this run: in band (its process) or on its worker pool. */
  mode: z.enum(['in-band', 'worker']),
  /** Absolute local path of the one test file to run. */
  testPath: z.string().min(1),
  /** Blob bytes (base64) the handler said it lacks; verified against their hash on arrival. */
  blobs: z.record(HashSchema, z.string()).optional(),
  changedFiles: z.array(z.string()).optional(),
  sourcesRelatedToTestsInChangedFiles: z.array(z.string()).optional(),
});
export type RunRequest = z.infer<typeof RunRequestSchema>;

export const SerializedErrorSchema = z.object({
  message: z.string(),
  stack: z.string().optional(),
  type: z.string().optional(),
  code: z.union([z.string(), z.number()]).optional(),
});
export type SerializedError = z.infer<typeof SerializedErrorSchema>;

/** Jest events produced while the file ran, in order, paths already local. */
export const TestEventSchema = z.object({
  name: z.enum(['test-case-start', 'test-case-result']),
  args: z.array(z.unknown()),
});
export type TestEvent = z.infer<typeof TestEventSchema>;

export const PhaseTimingSchema = z.record(z.string(), z.number());

/**
 * A file the run changed in its tree that belongs in the user's checkout: a snapshot file written,
 * updated or deleted, or a test file whose inline snapshots were rewritten. `content` is base64;
 * null means deleted.
 */
export const FileWriteSchema = z.object({
  path: z.string().min(1),
  content: z.string().nullable(),
});
export type FileWrite = z.infer<typeof FileWriteSchema>;

/** The part of Jest's TestResult we rely on; everything else passes through untouched. */
export const SerializedTestResultSchema = z.looseObject({
  testFilePath: z.string(),
  numFailingTests: z.number(),
  numPassingTests: z.number(),
  numPendingTests: z.number(),
  testResults: z.array(z.looseObject({ title: z.string(), status: z.string() })),
});

export const RunResponseSchema = z.discriminatedUnion('status', [
  z.object({
    protocolVersion: z.literal(PROTOCOL_VERSION),
    status: z.literal('completed'),
    result: SerializedTestResultSchema,
    writes: z.array(FileWriteSchema),
    events: z.array(TestEventSchema),
    timing: PhaseTimingSchema,
  }),
  z.object({
    /** The test file could not run (Jest's `test-file-failure`): reported, never retried. */
    protocolVersion: z.literal(PROTOCOL_VERSION),
    status: z.literal('failed'),
    error: SerializedErrorSchema,
    events: z.array(TestEventSchema),
    timing: PhaseTimingSchema,
  }),
  z.object({
    protocolVersion: z.literal(PROTOCOL_VERSION),
    status: z.literal('need-project'),
  }),
  z.object({
    protocolVersion: z.literal(PROTOCOL_VERSION),
    status: z.literal('need-blobs'),
    missing: z.array(HashSchema),
  }),
  z.object({
    /** The handler itself failed (bad request, broken runtime): an infrastructure fault. */
    protocolVersion: z.literal(PROTOCOL_VERSION),
    status: z.literal('crashed'),
    error: SerializedErrorSchema,
  }),
]);
export type RunResponse = z.infer<typeof RunResponseSchema>;

/** Messages between the local backend and its worker processes. */
export const WorkerInboundSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('run'), id: z.number().int(), request: z.unknown() }),
]);
export type WorkerInbound = z.infer<typeof WorkerInboundSchema>;

export const WorkerOutboundSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), pid: z.number().int() }),
  z.object({ type: z.literal('event'), id: z.number().int(), event: TestEventSchema }),
  z.object({ type: z.literal('response'), id: z.number().int(), response: z.unknown() }),
]);
export type WorkerOutbound = z.infer<typeof WorkerOutboundSchema>;

/** Parses at a boundary; the error names where parsing failed, one line per issue. */
export function parseAt<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new ProtocolError(`Invalid ${where}:\n${z.prettifyError(parsed.error)}`);
}

/**
 * Validates without rebuilding: zod's output puts declared keys first, and a test result must keep
 * Jest's own key order so `--json` output stays byte-identical. For schemas without defaults.
 */
export function checkAt<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  parseAt(schema, value, where);
  return value as T;
}

export class ProtocolError extends Error {
  readonly code = 'PROTOCOL';
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/**
 * The only definition of what crosses a process or network boundary between the runner (src/)
 * and the handler (handler/). Both sides parse with these schemas; nothing else is trusted.
 */
import { z } from 'zod';
import { ProtocolError } from './errors';

export { ProtocolError };

export const PROTOCOL_VERSION = 2;
/** Most test files one request may carry. */
export const MAX_FILES_PER_REQUEST = 32;
/** Lambda's synchronous invocation payload limit, request and response each, in bytes. */
export const LAMBDA_PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024;

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
  /**
   * Directories whose files travel together as one pack (installed packages: they change
   * together and are many small files); see src/pack.ts. Other files travel one blob each.
   */
  packDirs: z.array(RelativePathSchema).optional(),
  /** Further entries, as blobs (see src/manifest-parts.ts); the handler merges them in. */
  parts: z.array(HashSchema).optional(),
});
export type Manifest = z.infer<typeof ManifestSchema>;

/**
 * One blob of a manifest's parts (src/ship/manifest-parts.ts): a list of compact entries, each a
 * file `['f', path, hash, size, 1 if executable]`, a link `['l', path, target]`, a directory
 * `['d', path]` or a pack directory `['p', path]`.
 */
export const ManifestPartSchema = z.array(
  z.union([
    z.tuple([z.literal('f'), RelativePathSchema, HashSchema, z.number().int().nonnegative(), z.literal(1).optional()]),
    z.tuple([z.literal('l'), RelativePathSchema, z.string().min(1)]),
    z.tuple([z.literal('d'), RelativePathSchema]),
    z.tuple([z.literal('p'), RelativePathSchema]),
  ]),
);
export type ManifestPart = z.infer<typeof ManifestPartSchema>;

/** The JSON header of a pack (src/ship/pack.ts): its members' hashes and sizes, in the order of their bytes. */
export const PackHeaderSchema = z.array(z.tuple([HashSchema, z.number().int().nonnegative()]));
export type PackHeader = z.infer<typeof PackHeaderSchema>;

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
  /** sha256 of the project's description as it travels as a blob (see `projectBlob`). */
  key: HashSchema,
  /** Absolute local directory that the remote root stands for. */
  localBase: z.string().min(1),
  /** The prefix under which the local backend already materialized the tree (ignored remotely). */
  preparedRoot: z.string().optional(),
  /**
   * The embedded backend runs the files where they are, in the checkout (no mirror, no path
   * mapping, snapshots written by Jest itself), as Jest's own runner does. Never remote.
   */
  inPlace: z.boolean().optional(),
  manifest: ManifestSchema,
  /**
   * Real paths outside localBase that the tree holds elsewhere, reached through links of the
   * checkout (see src/mirror/walk.ts): [local real path, path in the tree]. Mapped both ways.
   */
  aliases: z.array(z.tuple([z.string().min(1), RelativePathSchema])).optional(),
  cwd: z.string(),
  jest: JestRuntimeSchema,
  /** Jest's normalized ProjectConfig, JSON round-tripped, local paths. */
  config: z.record(z.string(), z.unknown()),
  /** `moduleMap.toJSON()` of the local test context (paths relative to rootDir). */
  moduleMap: z.unknown(),
  /** Environment variables to set in the remote process (allowlisted by the runner). */
  env: z.record(z.string(), z.string()),
  /** Variables to remove for the run (a NO_COLOR of the function's own would undo FORCE_COLOR). */
  unsetEnv: z.array(z.string()).optional(),
  /**
   * The installed packages (of `manifest.packDirs`) every file of the project needs: Jest, the
   * transformers, what the setup files import. When set, an environment materializes only these
   * and those a request names (`RunRequest.packages`); without it, the whole tree.
   */
  packages: z.array(RelativePathSchema).optional(),
});
export type ProjectPayload = z.infer<typeof ProjectPayloadSchema>;

/**
 * A shared content store the handler may read blobs from (objects are packs, see src/pack.ts,
 * under `<prefix>packs/<pack key>`), and write answers too large for the response to.
 */
export const StoreSchema = z.object({
  kind: z.literal('s3'),
  bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'expected an S3 bucket name'),
  prefix: z
    .string()
    .max(512)
    .refine((p) => p === '' || p.endsWith('/'), 'must be empty or end with "/"'),
  region: z.string().optional(),
});
export type Store = z.infer<typeof StoreSchema>;

export const RunRequestSchema = z.object({
  protocolVersion: z.literal(PROTOCOL_VERSION),
  runId: z.string().min(1),
  projectKey: HashSchema,
  /**
   * Inline project description (the embedded backend, or on `need-project`). Remote handlers
   * otherwise load it as the blob `projectKey` from their store, the shared store or `pack`.
   */
  project: ProjectPayloadSchema.optional(),
  store: StoreSchema.optional(),
  /**
   * Jest's GlobalConfig of this run (local paths). It changes every run (its `seed`), so it travels
   * with each request: the project description, and the prepared session, stay the same.
   */
  globalConfig: z.record(z.string(), z.unknown()),
  /** Jest's own choice for this run: in band (its process) or on its worker pool. */
  mode: z.enum(['in-band', 'worker']),
  /** Absolute local path of the test file to run. */
  testPath: z.string().min(1),
  /** Further files to run after it in this invocation, in order (small files travel together). */
  moreTestPaths: z
    .array(z.string().min(1))
    .max(MAX_FILES_PER_REQUEST - 1)
    .optional(),
  /** Blobs the handler said it lacks, as one pack (base64); each verified against its hash on arrival. */
  pack: z.string().optional(),
  /**
   * One piece of a blob too large for one request even compressed (no bucket): `data` is the
   * gzip-compressed bytes from `offset` (base64). The handler appends it to what it holds of that
   * blob and stores the blob, checked against its hash, when the last piece has come.
   */
  piece: z.object({ hash: HashSchema, offset: z.number().int().nonnegative(), total: z.number().int().positive(), data: z.string() }).optional(),
  changedFiles: z.array(z.string()).optional(),
  sourcesRelatedToTestsInChangedFiles: z.array(z.string()).optional(),
  /** The installed packages this request's files need beyond the project's `packages`. */
  packages: z.array(RelativePathSchema).optional(),
  /** Key of the project's transform index in the store: transforms other environments made, to bring in first. */
  transforms: HashSchema.optional(),
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

/** Where an answer came from: for the cost estimate (architecture, memory) and version warnings. */
export const HostSchema = z.object({
  node: z.string(),
  arch: z.string(),
  /** AWS_LAMBDA_FUNCTION_MEMORY_SIZE, when running in Lambda. */
  memoryMb: z.number().optional(),
  /** process.platform (which platform packages and native files can load there). */
  platform: z.string().optional(),
  /** Whether the process has Node's VM modules (--experimental-vm-modules: native ESM under Jest). */
  vmModules: z.boolean().optional(),
});
export type Host = z.infer<typeof HostSchema>;

/**
 * The execution environment that answered (a Lambda container, a local worker): its id, and how
 * many files it had answered before this request (0: it was cold). For the run's timeline.
 */
export const EnvironmentSchema = z.object({
  id: z.string(),
  pid: z.number().int().optional(),
  filesBefore: z.number().int().nonnegative(),
  /** Bytes of the files its tree holds (a tree of only the packages its files needed is smaller than the whole). */
  treeBytes: z.number().int().nonnegative().optional(),
});
export type Environment = z.infer<typeof EnvironmentSchema>;
const answeredBy = { environment: EnvironmentSchema.optional() };

/**
 * Installed packages an environment brought in because a file's tests touched them although the
 * runner had not named them (a `require` of a computed name, a file read from a package): for the
 * runner to name them up front next time.
 */
export const FetchedPackagesSchema = z.object({
  /** Needed by this test file. */
  file: z.array(RelativePathSchema),
  /** Needed outside the test's own modules (a transformer's preset, the test environment): by every file of the project. */
  project: z.array(RelativePathSchema),
});
export type FetchedPackages = z.infer<typeof FetchedPackagesSchema>;

/**
 * A file of Jest's transform cache an environment wrote (see handler/transforms.ts): its path in
 * the cache folder, its bytes' sha256, the pack that holds it in the shared store (under
 * `<prefix>transforms/`), its size. The runner lists them in the project's transform index.
 */
export const TransformEntrySchema = z.tuple([RelativePathSchema, HashSchema, HashSchema, z.number().int().nonnegative()]);
export type TransformEntry = z.infer<typeof TransformEntrySchema>;
/** The transform index as it travels (a blob in the store): every entry an environment may bring in before it runs. */
export const TransformIndexSchema = z.array(TransformEntrySchema);

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

/**
 * What the remote process wrote to its stdout and stderr outside the tests' buffered console (a
 * transformer's warning, Jest's verbose in-band console): printed locally, as a worker's would be.
 */
export const ProcessOutputSchema = z.object({ stdout: z.string(), stderr: z.string() });
export type ProcessOutput = z.infer<typeof ProcessOutputSchema>;

const CompletedResponseSchema = z.object({
  protocolVersion: z.literal(PROTOCOL_VERSION),
  status: z.literal('completed'),
  result: SerializedTestResultSchema,
  writes: z.array(FileWriteSchema),
  events: z.array(TestEventSchema),
  timing: PhaseTimingSchema,
  host: HostSchema.optional(),
  output: ProcessOutputSchema.optional(),
  /** Programs the file's tests tried to start that are not on this side (their error may have been caught). */
  missingPrograms: z.array(z.string()).optional(),
  fetchedPackages: FetchedPackagesSchema.optional(),
  /** Transforms this request made, now in the shared store for other environments. */
  transforms: z.array(TransformEntrySchema).optional(),
  ...answeredBy,
});

/** The test file could not run (Jest's `test-file-failure`): reported, never retried. */
const FailedResponseSchema = z.object({
  protocolVersion: z.literal(PROTOCOL_VERSION),
  status: z.literal('failed'),
  error: SerializedErrorSchema,
  events: z.array(TestEventSchema),
  timing: PhaseTimingSchema,
  host: HostSchema.optional(),
  output: ProcessOutputSchema.optional(),
  /** Programs the file's tests tried to start that are not on this side (their error may have been caught). */
  missingPrograms: z.array(z.string()).optional(),
  fetchedPackages: FetchedPackagesSchema.optional(),
  transforms: z.array(TransformEntrySchema).optional(),
  ...answeredBy,
});

export const FileResponseSchema = z.discriminatedUnion('status', [CompletedResponseSchema, FailedResponseSchema]);
export type FileResponse = z.infer<typeof FileResponseSchema>;

export const RunResponseSchema = z.discriminatedUnion('status', [
  CompletedResponseSchema,
  FailedResponseSchema,
  z.object({
    /**
     * The answer to a request of several files: one entry per file that ran, in request order.
     * `stopped` says why the handler did not get to the files after them (they are sent again).
     */
    protocolVersion: z.literal(PROTOCOL_VERSION),
    status: z.literal('batch'),
    results: z.array(FileResponseSchema),
    stopped: SerializedErrorSchema.optional(),
    output: ProcessOutputSchema.optional(),
    transforms: z.array(TransformEntrySchema).optional(),
    ...answeredBy,
  }),
  z.object({
    protocolVersion: z.literal(PROTOCOL_VERSION),
    status: z.literal('need-project'),
    ...answeredBy,
  }),
  z.object({
    protocolVersion: z.literal(PROTOCOL_VERSION),
    status: z.literal('need-blobs'),
    missing: z.array(HashSchema),
    /** Of the missing blobs that arrive in pieces, how many bytes this environment holds already. */
    partial: z.record(HashSchema, z.number().int().nonnegative()).optional(),
    /**
     * The blobs are those of packages a file's tests touched (see FetchedPackagesSchema): name them
     * in the request that brings the blobs, whichever environment takes it.
     */
    fetchedPackages: FetchedPackagesSchema.extend({ testPath: z.string().min(1) }).optional(),
    ...answeredBy,
  }),
  z.object({
    /** The handler itself failed (bad request, broken runtime): an infrastructure fault. */
    protocolVersion: z.literal(PROTOCOL_VERSION),
    status: z.literal('crashed'),
    error: SerializedErrorSchema,
    /**
     * Retrying cannot help (permissions, a missing bucket, no room in /tmp): report at once. The
     * wire spelling of `retryable: false` (src/errors.ts) in protocol 2.
     */
    final: z.boolean().optional(),
    /**
     * What a final fault concerns: every file (the function cannot run them: a store it may not
     * read, a Jest it cannot load; the default) or only this request's (its answer cannot travel).
     */
    scope: z.enum(['function', 'request']).optional(),
    ...answeredBy,
  }),
]);
export type RunResponse = z.infer<typeof RunResponseSchema>;

/**
 * How a remote answer travels when its JSON would not fit Lambda's 6 MB response: gzip + base64
 * inline, or (too large even so) written to the request's store under `key` for the runner to
 * fetch and delete. The runner unwraps these before anything else sees the answer.
 */
export const ResponseEnvelopeSchema = z.discriminatedUnion('status', [
  z.object({ protocolVersion: z.literal(PROTOCOL_VERSION), status: z.literal('compressed'), data: z.string() }),
  z.object({ protocolVersion: z.literal(PROTOCOL_VERSION), status: z.literal('offloaded'), key: z.string().min(1), bytes: z.number().int() }),
]);
export type ResponseEnvelope = z.infer<typeof ResponseEnvelopeSchema>;

/**
 * A health check (`doctor`, `deploy`): which handler answers, on which Node, with how much /tmp.
 * Any protocol version may ask, so that a handler of another version still says which it is.
 */
export const PingRequestSchema = z.object({ protocolVersion: z.number().int(), kind: z.literal('ping') });
export type PingRequest = z.infer<typeof PingRequestSchema>;
export const PING_REQUEST: PingRequest = { protocolVersion: PROTOCOL_VERSION, kind: 'ping' };
export const PongSchema = z.object({
  protocolVersion: z.number().int(),
  status: z.literal('pong'),
  handlerVersion: z.string(),
  node: z.string(),
  arch: z.string(),
  tmpFreeBytes: z.number().optional(),
  warm: z.boolean(),
  platform: z.string().optional(),
  vmModules: z.boolean().optional(),
});
export type Pong = z.infer<typeof PongSchema>;

/** Messages between the local backend and its worker processes. */
export const WorkerInboundSchema = z.discriminatedUnion('type', [z.object({ type: z.literal('run'), id: z.number().int(), request: z.unknown() })]);
export type WorkerInbound = z.infer<typeof WorkerInboundSchema>;

export const WorkerOutboundSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), pid: z.number().int() }),
  z.object({ type: z.literal('event'), id: z.number().int(), event: TestEventSchema }),
  /** `heapUsed`: the worker's heap after the file, for Jest's `workerIdleMemoryLimit`. */
  z.object({ type: z.literal('response'), id: z.number().int(), response: z.unknown(), heapUsed: z.number().optional() }),
]);
export type WorkerOutbound = z.infer<typeof WorkerOutboundSchema>;

/**
 * The project description as it travels to remote handlers: a blob like any other, named by the
 * sha256 of these bytes (so `key` itself is not part of them).
 */
export function encodeProject(project: Omit<ProjectPayload, 'key' | 'preparedRoot'>): Buffer {
  return Buffer.from(JSON.stringify(project));
}

export function decodeProject(bytes: Buffer, key: Hash): ProjectPayload {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new ProtocolError(`The project description ${key} is not JSON: ${(error as Error).message}`);
  }
  return parseAt(ProjectPayloadSchema, { ...(value as object), key }, `project description ${key}`);
}

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

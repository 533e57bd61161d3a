'use strict';
// Every number the model uses, with its unit in its name and where it comes from.
// "measured" = measured by us; "AWS docs" = AWS Lambda documentation; "assumption" = our guess.

const MB = 1e6;

const DEFAULTS = {
  // --- Lambda fleet ---------------------------------------------------------------------------
  /** Invocations the runner keeps in flight; one grid axis (C). */
  concurrency: 50,
  /** Account concurrency quota per Region. AWS docs (Lambda quotas): default 1,000. */
  accountConcurrency: 1000,
  /** New execution environments per function: bucket size and refill. AWS docs (Lambda scaling
   * behavior): "1,000 execution environment instances every 10 seconds" per function. */
  burstEnvironments: 1000,
  burstWindowMs: 10_000,
  /** 'step': the bucket refills to 1,000 at each 10 s boundary (the nominal rule, the worst case);
   * 'continuous': 100 per second, capped at 1,000 (what the docs say Lambda does "in practice"). */
  burstRefill: 'step',
  /** Synchronous invoke rate limit per account, requests per second. AWS docs (Lambda concurrency):
   * 10 x the account concurrency. Modelled as perfect client pacing (no 429 + backoff). */
  requestsPerSecondPerConcurrency: 10,

  // --- cold start of one execution environment -------------------------------------------------
  /** Lambda INIT of our handler (runtime start + loading the bundled handler). Assumption (from the
   * brief: ~250 ms for a small Node handler), to be replaced by a real REPORT line's Init Duration. */
  initMs: 250,
  /** Packed project (node_modules + sources) each new environment downloads into /tmp. Assumption. */
  projectBytes: 60 * MB,
  /** S3 GET throughput of one Lambda environment. Assumption (tens of MB/s per connection is
   * typical; parallel ranged GETs can do more). */
  s3BytesPerSecond: 80 * MB,
  /** Latency of the S3 requests a cold start waits for (list/manifest, then the blobs in parallel). Assumption. */
  s3RequestLatencyMs: 30,
  s3RoundTrips: 2,
  /** Loading the user's Jest (jest-runner, jest-runtime, jest-config) from /tmp and preparing the
   * project context, once per environment. Measured by hand (DESIGN.md section 3: "0.34 s for a whole
   * cold process" including a trivial ~70 ms first file). */
  jestBootMs: 270,
  /** Extra time the first files in a new environment spend filling its empty Jest transform cache.
   * The per-file durations come from runs with a warm transform cache; see the sensitivity table for
   * the measured cold-minus-warm cost. 0 = not modelled (the conservative choice for the target:
   * a longer start-up shared by all strategies and the bound makes every ratio look better). */
  containerWarmupMs: 0,

  // --- every invocation ------------------------------------------------------------------------
  // Calibrated on bench/results/lambda-overhead.md (serverless-offline on 127.0.0.1, through the real
  // AWS SDK, 40 trivial files at concurrency 1, warm, medians of 5 runs): time per file outside the
  // handler's own run of the file = 16.1 ms one file per invocation, 10.0 ms batched. With b files per
  // batch, per invocation I and per file F: I + F = 16.1 and I / b + F = 10.0, so I = 6.1 b / (b - 1):
  // 8.1 ms for b = 4, 7.6 ms for b = 5 (b is not recorded; the trivial files took ~57 ms each, so the
  // 250 ms budget holds 4 or 5 of them). F = 10.0 - I / b = 8.0-8.5 ms, of which the client's
  // per-result work (clientPerFileMs) is modelled on the client thread; the rest goes on the fleet.
  /** Per invocation, warm, besides the network: request building and signing, the invoke's HTTP
   * exchange, the handler's request parsing and the response's serialisation. Fitted to the loopback
   * measurement above (I, b = 4), so it contains the emulator's own overhead instead of Lambda's. */
  invokeOverheadMs: 8.1,
  /** Network round trip client -> Lambda -> client per invocation, added to invokeOverheadMs.
   * Assumption: 15 ms, the middle of the 10-30 ms typical of a client in the function's Region
   * (a CI runner in the same Region); the loopback calibration has none. A far-away client: see the
   * sensitivity table (80 ms). */
  networkRttMs: 15,
  /** Per file on the fleet, paid by every file even inside a batch (the handler's per-file work
   * outside the file's measured duration, its share of the response). Fitted: F - clientPerFileMs
   * = 10.0 - 8.1 / 4 - 1.7 = 6.3 ms (6.8 ms for b = 5). */
  fileOverheadMs: 6.3,
  /** Small files go several to one invocation (src/dispatch.ts): a file whose estimate is under
   * batchMs takes the following files while each has an estimate and the sum stays <= batchMs, at most
   * maxFilesPerRequest; files without an estimate go alone. The runner's default (src/options.ts). */
  batchMs: 250,
  /** src/protocol.ts MAX_FILES_PER_REQUEST. */
  maxFilesPerRequest: 32,
  /** src/schedule.ts: shortest files first while the client thread is the bottleneck (false: always
   * longest first, the runner's rule before). */
  clientAware: true,
  /** Largest synchronous response. AWS docs (Lambda quotas): 6 MB. Bigger results go through S3. */
  responsePayloadLimitBytes: 6 * 1024 * 1024,
  /** Multiplier applied to the measured per-file durations (1 = a Lambda environment runs a file as
   * fast as the machine that measured it). Assumption. */
  remoteSlowdown: 1,

  // --- the client (the Jest process running our runner) -----------------------------------------
  /** Before the first invoke: mirror + ship check with nothing to upload. Measured on luxon
   * (bench/results/public-suites.md: mirror 8-12 ms, ship 16-18 ms). */
  clientStartupMs: 30,
  /** Main-thread work per finished file (receive the response, map it to a TestResult, Jest's
   * reporters), serialised on the one JS thread. Measured: bench/scale/client-cpu.js, our runner with
   * the local backend, warm: 1.4, 1.7, 1.8 ms/file, median 1.7 (Jest's default runner: 1.3); see
   * bench/results/scale.client-cpu.json. The Lambda backend adds the AWS SDK's per-request work
   * (signing, HTTP), not measured. */
  clientPerFileMs: 1.7,
  /** Download bandwidth of the client for results. Assumption (a CI runner in the same Region). */
  clientDownloadBytesPerSecond: 50 * MB,
  /** First run only: the client uploads the packed project before the first invoke. Assumption. */
  firstRun: false,
  clientUploadBytesPerSecond: 12.5 * MB,

  // --- the suite (run-to-run variation) ----------------------------------------------------------
  /** The runner schedules with the previous run's durations: actual x lognormal(0, sigma). Assumption. */
  estimateNoiseSigma: 0.3,
  /** Share of files with no cached duration (new files). Assumption. */
  newFileFraction: 0.05,
};

/** Time one new execution environment needs before it can start its first test file. */
function coldStartMs(p) {
  return p.initMs + p.s3RequestLatencyMs * p.s3RoundTrips + (p.projectBytes / p.s3BytesPerSecond) * 1000 + p.jestBootMs + p.containerWarmupMs;
}

/** Time from the runner's start to its first invoke. */
function clientStartMs(p) {
  return p.clientStartupMs + (p.firstRun ? (p.projectBytes / p.clientUploadBytesPerSecond) * 1000 : 0);
}

/** Where each default comes from, for the report: [kind, note]. */
const SOURCES = {
  concurrency: ['grid axis', 'in-flight invocations (our `concurrency` option)'],
  accountConcurrency: ['AWS docs', 'Lambda quotas: concurrent executions, default 1,000 per Region'],
  burstEnvironments: ['AWS docs', 'Lambda scaling behavior: 1,000 execution environments every 10 s per function'],
  burstWindowMs: ['AWS docs', 'same page'],
  burstRefill: ['AWS docs / choice', "the nominal 1,000-per-10-s rule ('step'); the docs add that in practice Lambda refills continuously ('continuous' flag)"],
  requestsPerSecondPerConcurrency: ['AWS docs', 'Lambda concurrency: a requests-per-second limit of 10 x the account concurrency'],
  initMs: ['assumption (brief)', 'Init Duration of our bundled Node handler; replace with a REPORT line'],
  projectBytes: ['assumption (brief)', 'packed node_modules + sources downloaded by each new environment'],
  s3BytesPerSecond: ['assumption (brief)', 'S3 GET throughput of one environment'],
  s3RequestLatencyMs: ['assumption', 'per S3 request round trip'],
  s3RoundTrips: ['assumption', 'manifest, then the blobs in parallel'],
  jestBootMs: ['measured by hand (DESIGN.md section 3)', '0.34 s for a whole cold Jest process, minus ~70 ms of first trivial file'],
  containerWarmupMs: ['choice', 'transform-cache warm-up per new environment; 0 = not modelled (see sensitivity)'],
  invokeOverheadMs: [
    'fitted to a measurement (bench/results/lambda-overhead.md)',
    "per invocation, warm, without the network: 16.1 ms/file one per invocation and 10.0 ms/file batched on the loopback emulator give 8.1 ms per invocation + 8.0 ms per file (assuming 4 files per batch; 7.6 + 8.5 for 5); the emulator stands in for Lambda's own front end",
  ],
  networkRttMs: [
    'assumption',
    'round trip client -> Lambda per invocation: middle of the typical 10-30 ms in the same Region; 80 ms for a far-away client in the sensitivity table',
  ],
  fileOverheadMs: [
    'fitted to the same measurement',
    'per file, on the fleet, also inside a batch: 8.0 ms per file minus the 1.7 ms clientPerFileMs modelled on the client thread; which side of the wire it sits on is not measured (see the sensitivity row that puts it on the client)',
  ],
  batchMs: ['runner default (src/options.ts)', 'estimated time per invocation of small files sent together; 0 = one file per invocation'],
  maxFilesPerRequest: ['runner constant (src/protocol.ts)', 'MAX_FILES_PER_REQUEST'],
  clientAware: [
    'runner behaviour (src/schedule.ts)',
    'the queue takes the shortest files while the client thread is the projected bottleneck; false = always longest first',
  ],
  responsePayloadLimitBytes: ['AWS docs', 'Lambda quotas: 6 MB synchronous response'],
  remoteSlowdown: ['assumption', 'a Lambda environment runs a file as fast as the measuring machine'],
  clientStartupMs: ['measured (bench/results/public-suites.md)', 'mirror 8-12 ms + ship 16-18 ms on luxon'],
  clientPerFileMs: [
    'measured (bench/scale/client-cpu.js, bench/results/scale.client-cpu.json)',
    'main-thread CPU per finished file of the Jest process with our runner (local backend, warm): 1.4, 1.7, 1.8 ms, median taken (Jest default runner: 1.3 ms); the AWS SDK per request is not in it',
  ],
  clientDownloadBytesPerSecond: ['assumption', 'CI runner in the same Region'],
  firstRun: ['scenario', 'false: a repeat run, nothing to upload, but every environment cold'],
  clientUploadBytesPerSecond: ['assumption', 'only used with --firstRun=true'],
  estimateNoiseSigma: ['assumption (brief)', 'run-to-run variation of a file duration'],
  newFileFraction: ['assumption (brief)', 'files with no cached duration'],
};

module.exports = { DEFAULTS, SOURCES, MB, coldStartMs, clientStartMs };

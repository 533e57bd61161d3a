#!/usr/bin/env node
/**
 * npx jest-runner-remote-lambda <command>
 *   deploy   create or update the Lambda function that runs test files
 *   policy   print the least-privilege IAM policies (caller, function role, deployer)
 *   doctor   check this machine, the options, credentials, the function and the bucket
 *   ls       what a run would ship, what is held back and why
 *   estimate what a run would take here and on Lambda, and cost, from Jest's last durations
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Architecture, Runtime } from '@aws-sdk/client-lambda';
import { RemoteRunnerError } from '../errors';
import { envName } from '../options';

const HELP = `Usage: npx jest-runner-remote-lambda <command> [options]

Commands:
  deploy   Create or update the function from this package's handler, publish a version, point an alias at it
  policy   Print least-privilege IAM policies: for npx jest, for the function's role, for deploying
  doctor   Check Node and Jest, the options, AWS credentials, the function (one ping) and the bucket
  ls       List what a run from this folder ships to Lambda (by folder, with sizes), what is held back and why
  zip <file>  Write the handler zip (for CloudFormation, SAM, Terraform…) without touching AWS
  estimate Predict the wall time here and on Lambda at a concurrency, where more stops helping, and
           the bill of one run, from the durations Jest cached in its last run (run npx jest first)

Options (deploy, policy, doctor):
  --function <name>          function name            (default: ${envName('function')} or jest-runner-remote-lambda)
  --region <region>          AWS region               (default: ${envName('region')}, then the AWS SDK's chain)
  --bucket <name>            S3 bucket for the shared content store (default: ${envName('bucket')})
  --bucket-prefix <prefix>   key prefix in the bucket (default: jest-runner-remote-lambda/)
deploy only:
  --role <arn>               execution role (default: create or update <function>-role with the least privilege)
  --memory <MB>              memory size, 128-10240   (default: 2048)
  --timeout <seconds>        1-900                    (default: 900)
  --architecture <arch>      x86_64 or arm64          (default: this machine's, if Linux; else x86_64)
  --ephemeral-storage <MB>   /tmp size, 512-10240     (default: 2048)
  --alias <name>             alias to publish to      (default: live)
  --runtime <id>             e.g. nodejs22.x          (default: this machine's Node major where Lambda offers it)
  --node-options <flags>     NODE_OPTIONS of the function, e.g. --experimental-vm-modules for native ESM suites
  --zip-out <file>           also write the handler zip there
  --no-verify                do not ping the function after deploying
policy only:
  --account <id>             12-digit account id to put in the ARNs (default: <account-id>)
estimate only:
  --concurrency <N>          invocations in flight    (default: the concurrency option, 50)
  --memory <MB>              the function's memory: its CPU share and its price (default: 2048)
  --architecture <arch>      x86_64 or arm64          (default: x86_64; both prices are printed)
  --workers <N>              workers here             (default: Jest's --maxWorkers)
  --first-run                nothing in the bucket yet: the whole tree is uploaded first
  --warm                     the environments are warm from a recent run (no cold starts)
  --cold-start-ms <ms>       a new environment's start (default: from the files shipped)
  --rtt-ms <ms>              network round trip per invocation (default: 15)
  --json                     one JSON object on the last line
`;

type Values = Record<string, string | boolean | undefined>;

const OPTIONS: ParseArgsConfig['options'] = {
  function: { type: 'string' },
  region: { type: 'string' },
  bucket: { type: 'string' },
  'bucket-prefix': { type: 'string' },
  role: { type: 'string' },
  memory: { type: 'string' },
  timeout: { type: 'string' },
  architecture: { type: 'string' },
  'ephemeral-storage': { type: 'string' },
  alias: { type: 'string' },
  runtime: { type: 'string' },
  'node-options': { type: 'string' },
  'zip-out': { type: 'string' },
  'no-verify': { type: 'boolean' },
  account: { type: 'string' },
  concurrency: { type: 'string' },
  workers: { type: 'string' },
  'first-run': { type: 'boolean' },
  warm: { type: 'boolean' },
  'cold-start-ms': { type: 'string' },
  'rtt-ms': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

export async function main(argv: string[], out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    out(`${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  const [command, ...extra] = parsed.positionals;
  if (command === 'zip' && extra.length === 1) {
    const { handlerZip } = require('./deploy') as typeof import('./deploy');
    try {
      const zip = handlerZip();
      require('node:fs').writeFileSync(extra[0], zip);
      out(`Wrote ${extra[0]} (${(zip.length / 1024).toFixed(0)} KB): index.js, handler index.handler.\n`);
      return 0;
    } catch (error) {
      out(`${(error as Error).message}\n`);
      return 1;
    }
  }
  const values = parsed.values as Values;
  if (values.help || !command) {
    out(HELP);
    return command || values.help ? 0 : 2;
  }
  if (extra.length > 0) {
    out(`Unexpected argument "${extra[0]}".\n\n${HELP}`);
    return 2;
  }
  require('../ship/s3').quietSdkNodeWarning();
  try {
    switch (command) {
      case 'deploy':
        return await runDeploy(values, out);
      case 'policy':
        return await runPolicy(values, out);
      case 'ls': {
        const { ls } = require('./ls') as typeof import('./ls');
        return await ls(out);
      }
      case 'estimate':
        return await runEstimate(values, out);
      case 'doctor': {
        const { doctor } = require('./doctor') as typeof import('./doctor');
        return await doctor(common(values), out);
      }
      default:
        out(`Unknown command "${command}". Commands: deploy, policy, doctor, ls, estimate, zip <file>.\n`);
        return 2;
    }
  } catch (error) {
    const e = error as Error;
    out(e instanceof RemoteRunnerError ? `${e.message}\n` : `${e.name}: ${e.message}\n`);
    return 1;
  }
}

export interface CommonOptions {
  functionName: string;
  /** --function was given: check the Lambda set-up even if the options select the local backend. */
  explicitFunction: boolean;
  region?: string;
  bucket?: string;
  bucketPrefix: string;
}

function common(v: Values): CommonOptions {
  const env = process.env;
  return {
    functionName: str(v.function) ?? env[envName('function')] ?? 'jest-runner-remote-lambda',
    explicitFunction: str(v.function) !== undefined,
    region: str(v.region) ?? env[envName('region')] ?? undefined,
    bucket: str(v.bucket) ?? (env[envName('bucket')] || undefined),
    bucketPrefix: str(v['bucket-prefix']) ?? env[envName('bucketPrefix')] ?? 'jest-runner-remote-lambda/',
  };
}

async function runDeploy(v: Values, out: (s: string) => void): Promise<number> {
  // Loaded per command: each pulls in a part of the AWS SDK the others do not need.
  const { deploy, defaultArchitecture } = require('./deploy') as typeof import('./deploy');
  const architecture = str(v.architecture) ?? defaultArchitecture();
  if (architecture !== 'x86_64' && architecture !== 'arm64') throw flagError('architecture', architecture, 'x86_64 or arm64');
  const result = await deploy(
    {
      ...common(v),
      role: str(v.role),
      memoryMb: int(v, 'memory', 2048, 128, 10240),
      timeoutSeconds: int(v, 'timeout', 900, 1, 900),
      architecture: architecture as Architecture,
      ephemeralStorageMb: int(v, 'ephemeral-storage', 2048, 512, 10240),
      alias: str(v.alias) ?? 'live',
      runtime: str(v.runtime) as Runtime | undefined,
      nodeOptions: str(v['node-options']),
      verify: !v['no-verify'],
      zipOut: str(v['zip-out']),
    },
    (line: string) => out(`  ${line}\n`),
  );
  for (const warning of result.warnings) out(`warning: ${warning}\n`);
  out(
    `${result.created ? 'Created' : 'Updated'} ${result.functionArn}:${result.alias} (version ${result.version}, ${result.runtime}, ` +
      `zip ${(result.zipBytes / 1024).toFixed(0)} KB, role ${result.roleArn}).\n`,
  );
  if (result.ping) {
    out(`Ping: handler ${result.ping.handlerVersion} on Node ${result.ping.node} (${result.ping.arch}) answered in ${result.ping.ms.toFixed(0)} ms.\n`);
  }
  const { functionName, bucket } = common(v);
  out(
    `\nRun your tests on it:\n  ${envName('backend')}=lambda ${envName('function')}=${functionName} ${envName('qualifier')}=${result.alias}` +
      `${bucket ? ` ${envName('bucket')}=${bucket}` : ''} npx jest\n`,
  );
  return 0;
}

async function runPolicy(v: Values, out: (s: string) => void): Promise<number> {
  const { callerPolicy, deployerPolicy, functionRolePolicy, LAMBDA_TRUST_POLICY } = require('./policy') as typeof import('./policy');
  const { roleNameFor } = require('./deploy') as typeof import('./deploy');
  const c = common(v);
  const account = str(v.account) ?? '<account-id>';
  if (account !== '<account-id>' && !/^\d{12}$/.test(account)) throw flagError('account', account, 'a 12-digit AWS account id');
  const target = { ...c, region: c.region ?? process.env.AWS_REGION ?? '<region>', account, roleName: roleNameFor(c.functionName) };
  const json = (value: unknown) => JSON.stringify(value, null, 2);
  out(
    `# For developers and CI running npx jest with the lambda backend:\n${json(callerPolicy(target))}\n\n` +
      `# The function's execution role (${target.roleName}); trust policy:\n${json(LAMBDA_TRUST_POLICY)}\n# permissions:\n${json(functionRolePolicy(target))}\n\n` +
      `# For whoever runs npx jest-runner-remote-lambda deploy:\n${json(deployerPolicy(target))}\n`,
  );
  if (!c.bucket) out('\n# (No bucket given: add --bucket <name> for the statements of the shared content store.)\n');
  return 0;
}

async function runEstimate(v: Values, out: (s: string) => void): Promise<number> {
  const { estimate } = require('./estimate') as typeof import('./estimate');
  const architecture = str(v.architecture) ?? 'x86_64';
  if (architecture !== 'x86_64' && architecture !== 'arm64') throw flagError('architecture', architecture, 'x86_64 or arm64');
  const optional = (flag: string, min: number, max: number) => (str(v[flag]) === undefined ? undefined : int(v, flag, 0, min, max));
  return estimate(
    {
      concurrency: optional('concurrency', 1, 10_000),
      memoryMb: optional('memory', 128, 10_240),
      architecture,
      workers: optional('workers', 1, 1024),
      json: Boolean(v.json),
      firstRun: Boolean(v['first-run']),
      warm: Boolean(v.warm),
      coldStartMs: optional('cold-start-ms', 0, 900_000),
      networkRttMs: optional('rtt-ms', 0, 10_000),
    },
    out,
  );
}

function str(value: string | boolean | undefined): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function int(v: Values, flag: string, fallback: number, min: number, max: number): number {
  const raw = str(v[flag]);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) throw flagError(flag, raw, `a whole number from ${min} to ${max}`);
  return n;
}

function flagError(flag: string, value: string, expected: string): RemoteRunnerError {
  return new RemoteRunnerError('OPTIONS', `Invalid --${flag} "${value}": expected ${expected}.`);
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}

/**
 * `npx jest-runner-remote-lambda deploy`: creates or updates the test function from this package's
 * built handler (dist/handler/index.js, zipped in memory), publishes a version and points an alias
 * at it, then pings it. Creates the function's least-privilege role when no role is given.
 */
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  GetAliasCommand,
  GetFunctionCommand,
  LambdaClient,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
  type Architecture,
  type FunctionConfiguration,
  type Runtime,
} from '@aws-sdk/client-lambda';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { zipSync } from 'fflate';
import { builtHandler } from '../backends/built-handler';
import { RemoteRunnerError } from '../errors';
import { PROTOCOL_VERSION } from '../protocol';
import { ping } from './ping';
import { LAMBDA_TRUST_POLICY, functionRolePolicy, type PolicyTarget } from './policy';

/** The Lambda entry of this package's build, zipped as the function's code. */
export const HANDLER_FILE = builtHandler('index.js');

/**
 * Node.js majors Lambda offers for new functions (2026-11: nodejs20.x was deprecated on
 * 2026-04-30 and can no longer be created; https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html).
 */
export const LAMBDA_NODE_MAJORS = [22, 24] as const;

export interface DeployOptions {
  functionName: string;
  region?: string;
  role?: string;
  memoryMb: number;
  timeoutSeconds: number;
  architecture: Architecture;
  ephemeralStorageMb: number;
  alias: string;
  runtime?: Runtime;
  bucket?: string;
  bucketPrefix: string;
  nodeOptions?: string;
  verify: boolean;
  /** Also write the zip here (for inspection or another deployment tool). */
  zipOut?: string;
}

export interface DeployResult {
  functionArn: string;
  version: string;
  alias: string;
  runtime: string;
  zipBytes: number;
  created: boolean;
  roleArn: string;
  warnings: string[];
  ping?: { ms: number; node: string; arch: string; handlerVersion: string };
}

/** The runtime matching this machine's Node major where Lambda offers it, else the nearest one. */
export function runtimeFor(nodeVersion = process.version): { runtime: Runtime; warning?: string } {
  const major = Number(nodeVersion.replace(/^v/, '').split('.')[0]);
  if ((LAMBDA_NODE_MAJORS as readonly number[]).includes(major)) return { runtime: `nodejs${major}.x` as Runtime };
  const nearest = [...LAMBDA_NODE_MAJORS].sort((a, b) => Math.abs(a - major) - Math.abs(b - major) || b - a)[0]!;
  return {
    runtime: `nodejs${nearest}.x` as Runtime,
    warning:
      `This machine runs Node ${nodeVersion}; Lambda offers Node ${LAMBDA_NODE_MAJORS.join(' and ')} for new functions, so the function gets nodejs${nearest}.x. ` +
      'Built-in error messages (JSON.parse, fs) can differ between majors and show up in assertions and snapshots; run Jest locally on the same major to compare.',
  };
}

/** The Lambda architecture whose native binaries this machine installed (linux only), else x86_64. */
export function defaultArchitecture(): Architecture {
  return process.platform === 'linux' && process.arch === 'arm64' ? 'arm64' : 'x86_64';
}

export function handlerZip(): Buffer {
  if (!fs.existsSync(HANDLER_FILE)) {
    throw new RemoteRunnerError(
      'DEPLOY',
      `The built handler ${HANDLER_FILE} is missing.\nRun npm run build in the jest-runner-remote-lambda checkout, or reinstall the package.`,
    );
  }
  // A fixed timestamp keeps the zip (and so the function's CodeSha256) the same for the same handler.
  return Buffer.from(zipSync({ 'index.js': [fs.readFileSync(HANDLER_FILE), { level: 9, mtime: new Date('2020-01-01T00:00:00Z') }] }));
}

export async function deploy(options: DeployOptions, log: (line: string) => void = () => {}): Promise<DeployResult> {
  const warnings: string[] = [];
  const { runtime, warning } = options.runtime ? { runtime: options.runtime, warning: undefined } : runtimeFor();
  if (warning) warnings.push(warning);
  const zip = handlerZip();
  if (options.zipOut) fs.writeFileSync(options.zipOut, zip);
  log(`handler zip: ${(zip.length / 1024).toFixed(0)} KB (${HANDLER_FILE})`);

  const lambda = new LambdaClient({ region: options.region });
  const region = await lambda.config.region();
  const existing = await getFunction(lambda, options.functionName);
  // A role we created (`<function>-role`) is brought up to date (a bucket added later needs its
  // statements); a role the user chose is never touched.
  const ours = (arn?: string) => arn?.endsWith(`:role/${roleNameFor(options.functionName)}`) ?? false;
  const roleArn = options.role ?? (existing?.Role && !ours(existing.Role) ? existing.Role : await ensureRole(options, region, log));
  const environment: { Variables: Record<string, string> } = { Variables: options.nodeOptions ? { NODE_OPTIONS: options.nodeOptions } : {} };
  const configuration = {
    FunctionName: options.functionName,
    Role: roleArn,
    Runtime: runtime,
    Handler: 'index.handler',
    MemorySize: options.memoryMb,
    Timeout: options.timeoutSeconds,
    EphemeralStorage: { Size: options.ephemeralStorageMb },
    Environment: environment,
    Description: `jest-runner-remote-lambda handler (protocol ${PROTOCOL_VERSION})`,
  };

  let created = false;
  if (!existing) {
    log(`creating function ${options.functionName} (${runtime}, ${options.architecture}, ${options.memoryMb} MB)`);
    await retryWhileRoleIsNew(() =>
      lambda.send(new CreateFunctionCommand({ ...configuration, Code: { ZipFile: zip }, Architectures: [options.architecture], PackageType: 'Zip' })),
    );
    await waitUntilFunctionActiveV2({ client: lambda, maxWaitTime: 300 }, { FunctionName: options.functionName });
    created = true;
  } else {
    log(`updating function ${options.functionName}`);
    await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: options.functionName, ZipFile: zip, Architectures: [options.architecture] }));
    await waitUntilFunctionUpdatedV2({ client: lambda, maxWaitTime: 300 }, { FunctionName: options.functionName });
    await lambda.send(new UpdateFunctionConfigurationCommand(configuration));
    await waitUntilFunctionUpdatedV2({ client: lambda, maxWaitTime: 300 }, { FunctionName: options.functionName });
  }
  const published = await lambda.send(new PublishVersionCommand({ FunctionName: options.functionName }));
  const version = published.Version!;
  const hasAlias = await lambda
    .send(new GetAliasCommand({ FunctionName: options.functionName, Name: options.alias }))
    .then(() => true)
    .catch((error: { name?: string }) => {
      if (error.name === 'ResourceNotFoundException') return false;
      throw error;
    });
  const aliasInput = { FunctionName: options.functionName, Name: options.alias, FunctionVersion: version };
  if (hasAlias) await lambda.send(new UpdateAliasCommand(aliasInput));
  else await lambda.send(new CreateAliasCommand(aliasInput));
  log(`published version ${version}, alias ${options.alias} -> ${version}`);

  const result: DeployResult = {
    functionArn: published.FunctionArn!.replace(/:\d+$/, ''),
    version,
    alias: options.alias,
    runtime,
    zipBytes: zip.length,
    created,
    roleArn,
    warnings,
  };
  if (options.verify) result.ping = await verify(lambda, options.functionName, options.alias);
  lambda.destroy();
  return result;
}

/** Pings the function just published: it must answer as this package's handler. */
async function verify(lambda: LambdaClient, functionName: string, qualifier: string): Promise<NonNullable<DeployResult['ping']>> {
  const answer = await ping(lambda, functionName, qualifier);
  if (answer.functionError)
    throw new RemoteRunnerError('DEPLOY', `The function failed to answer a ping (${answer.functionError}): ${answer.body.slice(0, 300)}`);
  if (!answer.pong)
    throw new RemoteRunnerError(
      'DEPLOY',
      `The function answered a ping with something else than a jest-runner-remote-lambda handler would: ${answer.body.slice(0, 200)}`,
    );
  return { ms: answer.ms, node: answer.pong.node, arch: answer.pong.arch, handlerVersion: answer.pong.handlerVersion };
}

async function getFunction(lambda: LambdaClient, name: string): Promise<FunctionConfiguration | undefined> {
  try {
    return (await lambda.send(new GetFunctionCommand({ FunctionName: name }))).Configuration;
  } catch (error) {
    if ((error as { name?: string }).name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

/** The role `<function>-role`, created with the trust policy and the function's own least-privilege policy. */
async function ensureRole(options: DeployOptions, region: string, log: (line: string) => void): Promise<string> {
  const { IAMClient, GetRoleCommand, CreateRoleCommand, PutRolePolicyCommand } = require('@aws-sdk/client-iam') as typeof import('@aws-sdk/client-iam');
  const iam = new IAMClient({ region });
  const roleName = roleNameFor(options.functionName);
  let arn: string;
  try {
    arn = (await iam.send(new GetRoleCommand({ RoleName: roleName }))).Role!.Arn!;
  } catch (error) {
    if ((error as { name?: string }).name !== 'NoSuchEntityException') throw error;
    log(`creating role ${roleName}`);
    arn = (
      await iam.send(
        new CreateRoleCommand({
          RoleName: roleName,
          AssumeRolePolicyDocument: JSON.stringify(LAMBDA_TRUST_POLICY),
          Description: `Execution role of the ${options.functionName} jest-runner-remote-lambda function`,
        }),
      )
    ).Role!.Arn!;
  }
  const account = arn.split(':')[4]!;
  const target: PolicyTarget = { functionName: options.functionName, region, account, roleName, bucket: options.bucket, bucketPrefix: options.bucketPrefix };
  await iam.send(
    new PutRolePolicyCommand({ RoleName: roleName, PolicyName: 'jest-runner-remote-lambda', PolicyDocument: JSON.stringify(functionRolePolicy(target)) }),
  );
  iam.destroy();
  return arn;
}

export function roleNameFor(functionName: string): string {
  return `${functionName}-role`.slice(0, 64);
}

/** A role created seconds ago is not yet assumable by Lambda everywhere (IAM is eventually consistent). */
async function retryWhileRoleIsNew<T>(action: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await action();
    } catch (error) {
      const e = error as { name?: string; message?: string };
      const roleNotReady = e.name === 'InvalidParameterValueException' && /role.*cannot be assumed/i.test(e.message ?? '');
      if (!roleNotReady || attempt >= 12) throw error;
      await sleep(5_000);
    }
  }
}

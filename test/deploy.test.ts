/**
 * `deploy` and `policy` through the real AWS SDK against moto's server (an emulator of the Lambda
 * and IAM control planes) on 127.0.0.1. moto cannot run functions without Docker, so deploy runs
 * with --no-verify here; the handler the zip holds is exercised by the serverless-offline tests.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetAliasCommand, GetFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetRolePolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import { CloudFormationClient, CreateStackCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CreateBucketCommand, GetBucketEncryptionCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { unzipSync } from 'fflate';
import { callerPolicy, deployerPolicy, functionRolePolicy } from '../src/cli/policy';
import { handlerZip, runtimeFor } from '../src/cli/deploy';
import { freePort } from './support/offline';
import { REPO } from './support/run-jest';

const MOTO = spawnSync('sh', ['-c', 'command -v moto_server']).stdout?.toString().trim();
const CLI = path.join(REPO, 'dist/src/cli.js');
let moto: ChildProcess | undefined;
let endpoint: string;
let work: string;

const awsEnv = () => ({ ...process.env, AWS_ENDPOINT_URL: endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x' });
const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: awsEnv(), encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, out: r.stdout };
};
const client = <T>(C: new (c: object) => T): T => new C({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });

const describeWithMoto = MOTO ? describe : describe.skip;
if (!MOTO) console.warn('deploy.test.ts: moto_server is not on PATH; the deploy tests against the Lambda/IAM emulator are skipped.');

describeWithMoto('deploy against the Lambda and IAM control planes (moto)', () => {
  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'jrl-deploy-'));
    const port = await freePort();
    endpoint = `http://127.0.0.1:${port}`;
    moto = spawn(MOTO!, ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore', detached: true });
    for (let i = 0; i < 100; i++) {
      if (
        await fetch(`${endpoint}/moto-api/`).then(
          () => true,
          () => false,
        )
      )
        return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`moto_server did not answer on ${endpoint}`);
  }, 60_000);
  afterAll(() => {
    if (moto?.pid) process.kill(-moto.pid, 'SIGTERM');
    fs.rmSync(work, { recursive: true, force: true });
  });

  test('creates the function, its least-privilege role, a version and the alias; a second deploy updates them', async () => {
    const zip = path.join(work, 'handler.zip');
    const first = cli(
      'deploy',
      '--function',
      'jrl-deploy',
      '--bucket',
      'team-cache',
      '--memory',
      '3008',
      '--architecture',
      'arm64',
      '--ephemeral-storage',
      '4096',
      '--node-options=--experimental-vm-modules',
      '--runtime',
      'nodejs22.x',
      '--zip-out',
      zip,
      '--no-verify',
    );
    expect(first.out).toContain('Created arn:aws:lambda:us-east-1:123456789012:function:jrl-deploy:live (version 1, nodejs22.x, zip ');
    expect(first.out).toContain(
      'JEST_REMOTE_LAMBDA_BACKEND=lambda JEST_REMOTE_LAMBDA_FUNCTION=jrl-deploy JEST_REMOTE_LAMBDA_QUALIFIER=live JEST_REMOTE_LAMBDA_BUCKET=team-cache npx jest',
    );
    expect(first.status).toBe(0);

    const lambda = client(LambdaClient);
    const fn = (await lambda.send(new GetFunctionCommand({ FunctionName: 'jrl-deploy' }))).Configuration!;
    expect(fn).toMatchObject({
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      MemorySize: 3008,
      Timeout: 900,
      Architectures: ['arm64'],
      EphemeralStorage: { Size: 4096 },
      Environment: { Variables: { NODE_OPTIONS: '--experimental-vm-modules' } },
      Role: 'arn:aws:iam::123456789012:role/jrl-deploy-role',
      CodeSha256: crypto.createHash('sha256').update(fs.readFileSync(zip)).digest('base64'),
    });
    // the zip holds exactly the built handler
    expect(Object.keys(unzipSync(fs.readFileSync(zip)))).toEqual(['index.js']);
    expect(Buffer.from(unzipSync(fs.readFileSync(zip))['index.js']!).equals(fs.readFileSync(path.join(REPO, 'dist/handler/index.js')))).toBe(true);
    expect((await lambda.send(new GetAliasCommand({ FunctionName: 'jrl-deploy', Name: 'live' }))).FunctionVersion).toBe('1');

    const iam = client(IAMClient);
    const policy = await iam.send(new GetRolePolicyCommand({ RoleName: 'jrl-deploy-role', PolicyName: 'jest-runner-remote-lambda' }));
    expect(JSON.parse(decodeURIComponent(policy.PolicyDocument!))).toEqual(
      functionRolePolicy({
        functionName: 'jrl-deploy',
        region: 'us-east-1',
        account: '123456789012',
        roleName: 'jrl-deploy-role',
        bucket: 'team-cache',
        bucketPrefix: 'jest-runner-remote-lambda/',
      }),
    );

    const second = cli(
      'deploy',
      '--function',
      'jrl-deploy',
      '--bucket',
      'team-cache',
      '--memory',
      '4096',
      '--architecture',
      'arm64',
      '--runtime',
      'nodejs22.x',
      '--no-verify',
    );
    expect(second.out).toContain('Updated arn:aws:lambda:us-east-1:123456789012:function:jrl-deploy:live (version 2, nodejs22.x');
    expect(second.status).toBe(0);
    expect((await lambda.send(new GetFunctionCommand({ FunctionName: 'jrl-deploy' }))).Configuration!.MemorySize).toBe(4096);
    expect((await lambda.send(new GetAliasCommand({ FunctionName: 'jrl-deploy', Name: 'live' }))).FunctionVersion).toBe('2');
    lambda.destroy();
    iam.destroy();
  });

  test('the CloudFormation template in examples/aws creates a stack: function, role, bucket, caller policy, outputs', async () => {
    const s3 = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    await s3.send(new CreateBucketCommand({ Bucket: 'code' }));
    await s3.send(new PutObjectCommand({ Bucket: 'code', Key: 'jest-runner-remote-lambda/handler.zip', Body: handlerZip() }));
    const cfn = client(CloudFormationClient);
    await cfn.send(
      new CreateStackCommand({
        StackName: 'jrl-stack',
        TemplateBody: fs.readFileSync(path.join(REPO, 'examples/aws/template.yaml'), 'utf8'),
        Parameters: [
          { ParameterKey: 'CodeBucket', ParameterValue: 'code' },
          { ParameterKey: 'FunctionName', ParameterValue: 'jrl-from-template' },
          { ParameterKey: 'Architecture', ParameterValue: 'arm64' },
        ],
        Capabilities: ['CAPABILITY_IAM'],
      }),
    );
    const stack = (await cfn.send(new DescribeStacksCommand({ StackName: 'jrl-stack' }))).Stacks![0]!;
    expect(stack.StackStatus).toBe('CREATE_COMPLETE');
    const outputs = Object.fromEntries(stack.Outputs!.map((o) => [o.OutputKey, o.OutputValue]));
    expect(outputs.RunCommand).toBe(
      `JEST_REMOTE_LAMBDA_BACKEND=lambda JEST_REMOTE_LAMBDA_FUNCTION=jrl-from-template JEST_REMOTE_LAMBDA_QUALIFIER=live JEST_REMOTE_LAMBDA_BUCKET=${outputs.Bucket} npx jest`,
    );
    const lambda = client(LambdaClient);
    // (moto's CloudFormation ignores a function's Architectures and EphemeralStorage and a bucket's
    // lifecycle rules, and creates no AWS::Lambda::Alias: those are not checked here)
    expect((await lambda.send(new GetFunctionCommand({ FunctionName: 'jrl-from-template' }))).Configuration).toMatchObject({
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      MemorySize: 2048,
      Timeout: 900,
      Role: expect.stringMatching(/^arn:aws:iam::123456789012:role\/jrl-stack-FunctionRole-/),
    });
    // the shared store holds everyone's test files: encrypted at rest, no public access at all
    const encryption = await s3.send(new GetBucketEncryptionCommand({ Bucket: outputs.Bucket }));
    expect(encryption.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm).toBe('AES256');
    // (moto's CloudFormation does not apply a PublicAccessBlockConfiguration: the template says it)
    expect(fs.readFileSync(path.join(REPO, 'examples/aws/template.yaml'), 'utf8')).toMatch(
      /PublicAccessBlockConfiguration:\n {8}BlockPublicAcls: true\n {8}BlockPublicPolicy: true\n {8}IgnorePublicAcls: true\n {8}RestrictPublicBuckets: true\n/,
    );
    lambda.destroy();
    cfn.destroy();
    s3.destroy();
  });

  test('a role given by the user is used as it is, never created or changed', async () => {
    const r = cli('deploy', '--function', 'jrl-own-role', '--role', 'arn:aws:iam::123456789012:role/jrl-deploy-role', '--no-verify', '--runtime', 'nodejs22.x');
    expect(r.out).not.toContain('creating role');
    expect(r.out).toContain('role arn:aws:iam::123456789012:role/jrl-deploy-role');
    expect(r.status).toBe(0);
  });
});

describe('the CLI without AWS', () => {
  test('bad flags name the flag, the value and what is expected', () => {
    const r = spawnSync(process.execPath, [CLI, 'deploy', '--architecture', 'sparc'], { encoding: 'utf8' });
    expect(r.stdout).toBe('Invalid --architecture "sparc": expected x86_64 or arm64.\n');
    expect(r.status).toBe(1);
    const m = spawnSync(process.execPath, [CLI, 'deploy', '--memory', '64'], { encoding: 'utf8' });
    expect(m.stdout).toBe('Invalid --memory "64": expected a whole number from 128 to 10240.\n');
    const u = spawnSync(process.execPath, [CLI, 'deploy', '--memroy', '64'], { encoding: 'utf8' });
    expect(u.stdout).toMatch(/^Unknown option '--memroy'/);
    expect(u.status).toBe(2);
  });

  test('zip writes the handler zip without touching AWS', () => {
    const file = path.join(os.tmpdir(), `jrl-zip-${process.pid}.zip`);
    const r = spawnSync(process.execPath, [CLI, 'zip', file], { encoding: 'utf8', env: { ...process.env, AWS_ENDPOINT_URL: 'http://127.0.0.1:1' } });
    expect(r.stdout).toMatch(/^Wrote .*\.zip \(\d+ KB\): index\.js, handler index\.handler\.\n$/);
    expect(Buffer.from(unzipSync(fs.readFileSync(file))['index.js']!).equals(fs.readFileSync(path.join(REPO, 'dist/handler/index.js')))).toBe(true);
    fs.rmSync(file);
  });

  test("the runtime follows this machine's Node major where Lambda offers it", () => {
    expect(runtimeFor('v22.11.0')).toEqual({ runtime: 'nodejs22.x' });
    expect(runtimeFor('v24.1.0')).toEqual({ runtime: 'nodejs24.x' });
    expect(runtimeFor('v20.20.2').runtime).toBe('nodejs22.x');
    expect(runtimeFor('v20.20.2').warning).toContain('Lambda offers Node 22 and 24 for new functions');
    expect(runtimeFor('v26.0.0').runtime).toBe('nodejs24.x');
  });

  test('policy prints the three least-privilege documents, scoped to the function and the bucket prefix', () => {
    const r = spawnSync(
      process.execPath,
      [CLI, 'policy', '--function', 'jrl', '--bucket', 'team-cache', '--account', '123456789012', '--region', 'eu-west-1'],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(0);
    const target = {
      functionName: 'jrl',
      region: 'eu-west-1',
      account: '123456789012',
      roleName: 'jrl-role',
      bucket: 'team-cache',
      bucketPrefix: 'jest-runner-remote-lambda/',
    };
    const blocks = r.stdout
      .split(/^# .*$/m)
      .map((b) => b.trim())
      .filter(Boolean)
      .map((b) => JSON.parse(b));
    expect(blocks).toEqual([
      callerPolicy(target),
      expect.objectContaining({ Statement: [expect.objectContaining({ Principal: { Service: 'lambda.amazonaws.com' } })] }),
      functionRolePolicy(target),
      deployerPolicy(target),
    ]);
    expect(callerPolicy(target).Statement).toEqual([
      {
        Sid: 'InvokeTestFunction',
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: ['arn:aws:lambda:eu-west-1:123456789012:function:jrl', 'arn:aws:lambda:eu-west-1:123456789012:function:jrl:*'],
      },
      {
        Sid: 'UploadAndCheckPacks',
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:PutObject'],
        Resource: 'arn:aws:s3:::team-cache/jest-runner-remote-lambda/packs/*',
      },
      {
        Sid: 'TakeLargeResults',
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:DeleteObject'],
        Resource: 'arn:aws:s3:::team-cache/jest-runner-remote-lambda/results/*',
      },
      {
        Sid: 'ListStorePrefix',
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: 'arn:aws:s3:::team-cache',
        Condition: { StringLike: { 's3:prefix': ['jest-runner-remote-lambda/*'] } },
      },
    ]);
  });
});

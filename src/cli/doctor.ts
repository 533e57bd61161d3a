/**
 * `npx jest-runner-remote-lambda doctor`: one line per check, each a pass or a failure with its
 * fix. Nothing secret is printed (credentials are named by where they came from, never shown).
 */
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { LambdaClient } from '@aws-sdk/client-lambda';
import path from 'node:path';
import { locateJest } from '../mirror/jest-locate';
import { resolveOptions, type ResolvedOptions } from '../options';
import { PROTOCOL_VERSION, type Pong } from '../protocol';
import { s3Client } from '../ship/s3';
import { HANDLER_VERSION as PACKAGE_VERSION } from '../version';
import type { CommonOptions } from './main';
import { ping } from './ping';

type Check = { ok: boolean | 'skip'; title: string; detail: string; fix?: string };
type Report = (check: Check) => void;

export async function doctor(cli: CommonOptions, out: (s: string) => void, cwd = process.cwd()): Promise<number> {
  const checks: Check[] = [];
  const report: Report = (check) => {
    checks.push(check);
    const mark = check.ok === 'skip' ? '–' : check.ok ? '✓' : '✗';
    out(`${mark} ${check.title}: ${check.detail}\n${check.ok === false && check.fix ? `  fix: ${check.fix}\n` : ''}`);
  };
  checkMachine(cwd, report);
  const options = checkOptions(cwd, report);
  const target = {
    functionName: options?.function ?? cli.functionName,
    region: options?.region ?? cli.region,
    bucket: options?.bucket ?? cli.bucket,
    qualifier: options?.qualifier,
  };
  if (options?.backend !== 'lambda' && !cli.explicitFunction) {
    report({
      ok: 'skip',
      title: 'AWS',
      detail: `backend "local" needs no AWS; set ${'JEST_REMOTE_LAMBDA_BACKEND'}=lambda (or pass --function) to check the Lambda set-up`,
    });
    return summary(checks, out);
  }
  const lambda = new LambdaClient({ region: target.region, maxAttempts: 2 });
  const region = await lambda.config.region().catch(() => undefined);
  report(
    region
      ? { ok: true, title: 'Region', detail: region }
      : { ok: false, title: 'Region', detail: 'none found', fix: 'Set AWS_REGION (or JEST_REMOTE_LAMBDA_REGION, or a region in your AWS profile).' },
  );
  const credentialsOk = await checkCredentials(lambda, report);
  if (credentialsOk && region) await checkFunction(lambda, { ...target, region }, report);
  lambda.destroy();
  await checkBucket(target, credentialsOk, report);
  return summary(checks, out);
}

function checkMachine(cwd: string, report: Report): void {
  const nodeMajor = Number(process.versions.node.split('.')[0]);
  report({ ok: nodeMajor >= 20, title: 'Node.js', detail: process.version, fix: 'Use Node.js 20 or newer (the runner and the AWS SDK need it).' });
  if ((process.versions as { pnp?: string }).pnp !== undefined) {
    report({
      ok: false,
      title: 'Package layout',
      detail: "Yarn Plug'n'Play: there is no node_modules tree to ship",
      fix: 'Add "nodeLinker: node-modules" to .yarnrc.yml and run yarn install again.',
    });
  }
  try {
    const jest = locateJest(cwd);
    report({ ok: jest.major === 29 || jest.major === 30, title: 'Jest', detail: `${jest.version} (${path.dirname(jest.runner)})`, fix: 'Use Jest 29 or 30.' });
  } catch (error) {
    report({
      ok: false,
      title: 'Jest',
      detail: (error as Error).message.split('\n')[0]!,
      fix: 'npm install --save-dev jest, and run doctor from your project folder.',
    });
  }
}

function checkOptions(cwd: string, report: Report): ResolvedOptions | undefined {
  try {
    const options = resolveOptions(cwd, undefined);
    report({
      ok: true,
      title: 'Options',
      detail: `backend ${options.backend} (environment and remote-lambda.config.* in ${cwd}; runner options in jest.config are checked when Jest starts)`,
    });
    return options;
  } catch (error) {
    const [first, ...rest] = (error as Error).message.split('\n');
    report({ ok: false, title: 'Options', detail: first!, fix: rest.join(' ') || undefined });
    return undefined;
  }
}

async function checkCredentials(lambda: LambdaClient, report: Report): Promise<boolean> {
  try {
    const credentials = await lambda.config.credentials();
    const source = (credentials as { $source?: Record<string, string> }).$source;
    const from = source ? Object.keys(source).join(', ') : 'the default chain';
    report({ ok: true, title: 'AWS credentials', detail: `found (access key …${credentials.accessKeyId.slice(-4)}; ${from})` });
    return true;
  } catch (error) {
    report({
      ok: false,
      title: 'AWS credentials',
      detail: `none found (${(error as Error).message.split('\n')[0]})`,
      fix: 'Configure credentials as for the AWS CLI: aws configure / aws sso login, AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.',
    });
    return false;
  }
}

async function checkFunction(lambda: LambdaClient, t: { functionName: string; qualifier?: string; region: string }, report: Report): Promise<void> {
  const target = `${t.functionName}${t.qualifier ? `:${t.qualifier}` : ''}`;
  try {
    const answer = await ping(lambda, t.functionName, t.qualifier);
    if (answer.functionError) {
      report({
        ok: false,
        title: 'Function',
        detail: `${target} failed (${answer.functionError}): ${answer.body.slice(0, 200)}`,
        fix: 'Redeploy: npx jest-runner-remote-lambda deploy.',
      });
    } else if (answer.protocolVersion !== undefined && answer.protocolVersion !== PROTOCOL_VERSION) {
      report({
        ok: false,
        title: 'Function',
        detail: `${target} runs a handler of protocol ${JSON.stringify(answer.protocolVersion)}; this runner (${PACKAGE_VERSION}) speaks protocol ${PROTOCOL_VERSION}`,
        fix: `Deploy the handler of this version: npx jest-runner-remote-lambda deploy --function ${t.functionName}.`,
      });
    } else if (!answer.pong) {
      report({
        ok: false,
        title: 'Function',
        detail: `${target} does not answer like a jest-runner-remote-lambda handler: ${answer.body.slice(0, 120)}`,
        fix: `Deploy it: npx jest-runner-remote-lambda deploy --function ${t.functionName}.`,
      });
    } else {
      reportPong(target, answer.pong, answer.ms, report);
    }
  } catch (error) {
    const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    const status = e.$metadata?.httpStatusCode;
    const fix =
      e.name === 'ResourceNotFoundException' || status === 404
        ? `Check the name (JEST_REMOTE_LAMBDA_FUNCTION, --function) and the region, or create it: npx jest-runner-remote-lambda deploy --function ${t.functionName}.`
        : e.name === 'AccessDeniedException' || status === 403
          ? 'Grant lambda:InvokeFunction on the function (npx jest-runner-remote-lambda policy prints the policy).'
          : 'Check the network and the endpoint (AWS_ENDPOINT_URL_LAMBDA), then run doctor again.';
    report({ ok: false, title: 'Function', detail: `${target} in ${t.region}: ${e.name ?? 'Error'}: ${(e.message ?? '').split('\n')[0]}`, fix });
  }
}

function reportPong(target: string, p: Pong, ms: number, report: Report): void {
  report({
    ok: true,
    title: 'Function',
    detail:
      `${target}: handler ${p.handlerVersion} (protocol ${p.protocolVersion}) on Node ${p.node} ${p.arch}, ${p.warm ? 'warm' : 'cold'}, round trip ${ms.toFixed(0)} ms` +
      (p.tmpFreeBytes !== undefined ? `, ${(p.tmpFreeBytes / 1024 / 1024).toFixed(0)} MB free in /tmp` : ''),
  });
  const remoteMajor = p.node.replace(/^v/, '').split('.')[0];
  report({
    ok: remoteMajor === process.versions.node.split('.')[0],
    title: 'Node versions',
    detail: `local ${process.version}, function ${p.node}`,
    fix: "Built-in error messages can differ between majors (assertions, snapshots): deploy with --runtime nodejs<your major>.x where Lambda offers it, or run Jest locally on the function's major.",
  });
  if (p.handlerVersion !== PACKAGE_VERSION) {
    report({
      ok: false,
      title: 'Handler version',
      detail: `function ${p.handlerVersion}, runner ${PACKAGE_VERSION}`,
      fix: 'Redeploy so both are the same: npx jest-runner-remote-lambda deploy.',
    });
  }
}

async function checkBucket(t: { region?: string; bucket?: string }, credentialsOk: boolean, report: Report): Promise<void> {
  const { bucket } = t;
  if (!bucket) {
    report({ ok: 'skip', title: 'Bucket', detail: 'none set: blobs travel inside invocations (set JEST_REMOTE_LAMBDA_BUCKET for large projects)' });
    return;
  }
  if (!credentialsOk) {
    report({ ok: 'skip', title: 'Bucket', detail: `s3://${bucket}: not checked without credentials` });
    return;
  }
  try {
    await s3Client(t.region).send(new HeadBucketCommand({ Bucket: bucket }));
    report({ ok: true, title: 'Bucket', detail: `s3://${bucket} reachable` });
  } catch (error) {
    const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
    const status = e.$metadata?.httpStatusCode;
    report({
      ok: false,
      title: 'Bucket',
      detail: `s3://${bucket}: ${status === 404 ? 'does not exist' : status === 403 ? 'access denied' : `${e.name}`}`,
      fix:
        status === 404
          ? `Create it (aws s3 mb s3://${bucket}) or fix JEST_REMOTE_LAMBDA_BUCKET.`
          : 'Grant s3:ListBucket, s3:GetObject and s3:PutObject on the bucket prefix (npx jest-runner-remote-lambda policy --bucket ' + bucket + ').',
    });
  }
}

function summary(checks: Check[], out: (s: string) => void): number {
  const failed = checks.filter((c) => c.ok === false).length;
  out(failed === 0 ? '\nAll checks passed.\n' : `\n${failed} check(s) failed.\n`);
  return failed === 0 ? 0 : 1;
}

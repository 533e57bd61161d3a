/**
 * `npx jest-runner-remote-lambda doctor`: one line per check, each a pass or a failure with its
 * fix. Nothing secret is printed (credentials are named by where they came from, never shown).
 */
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { CommonOptions } from './cli';
import { locateJest } from './jest-locate';
import { resolveOptions, type ResolvedOptions } from './options';
import { PROTOCOL_VERSION, PongSchema } from './protocol';
import { s3Client } from './s3';
import { HANDLER_VERSION as PACKAGE_VERSION } from './version';

type Check = { ok: boolean | 'skip'; title: string; detail: string; fix?: string };


export async function doctor(cli: CommonOptions, out: (s: string) => void, cwd = process.cwd()): Promise<number> {
  const checks: Check[] = [];
  const report = (check: Check) => {
    checks.push(check);
    const mark = check.ok === 'skip' ? '–' : check.ok ? '✓' : '✗';
    out(`${mark} ${check.title}: ${check.detail}\n${check.ok === false && check.fix ? `  fix: ${check.fix}\n` : ''}`);
  };

  const nodeMajor = Number(process.versions.node.split('.')[0]);
  report({
    ok: nodeMajor >= 20,
    title: 'Node.js',
    detail: process.version,
    fix: 'Use Node.js 20 or newer (the runner and the AWS SDK need it).',
  });

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
    report({ ok: false, title: 'Jest', detail: (error as Error).message.split('\n')[0]!, fix: 'npm install --save-dev jest, and run doctor from your project folder.' });
  }

  let options: ResolvedOptions | undefined;
  try {
    options = resolveOptions(cwd, undefined);
    report({ ok: true, title: 'Options', detail: `backend ${options.backend} (environment and remote-lambda.config.* in ${cwd}; runner options in jest.config are checked when Jest starts)` });
  } catch (error) {
    const [first, ...rest] = (error as Error).message.split('\n');
    report({ ok: false, title: 'Options', detail: first!, fix: rest.join(' ') || undefined });
  }

  const functionName = options?.function ?? cli.functionName;
  const region = options?.region ?? cli.region;
  const bucket = options?.bucket ?? cli.bucket;
  const qualifier = options?.qualifier;
  const wantsLambda = options?.backend === 'lambda' || cli.explicitFunction;
  if (!wantsLambda) {
    report({ ok: 'skip', title: 'AWS', detail: `backend "local" needs no AWS; set ${'JEST_REMOTE_LAMBDA_BACKEND'}=lambda (or pass --function) to check the Lambda set-up` });
    return summary(checks, out);
  }

  const lambda = new LambdaClient({ region, maxAttempts: 2 });
  let resolvedRegion: string | undefined;
  try {
    resolvedRegion = await lambda.config.region();
    report({ ok: true, title: 'Region', detail: resolvedRegion });
  } catch {
    report({ ok: false, title: 'Region', detail: 'none found', fix: 'Set AWS_REGION (or JEST_REMOTE_LAMBDA_REGION, or a region in your AWS profile).' });
  }

  let credentialsOk = false;
  try {
    const credentials = await lambda.config.credentials();
    const source = (credentials as { $source?: Record<string, string> }).$source;
    const from = source ? Object.keys(source).join(', ') : 'the default chain';
    report({ ok: true, title: 'AWS credentials', detail: `found (access key …${credentials.accessKeyId.slice(-4)}; ${from})` });
    credentialsOk = true;
  } catch (error) {
    report({
      ok: false,
      title: 'AWS credentials',
      detail: `none found (${(error as Error).message.split('\n')[0]})`,
      fix: 'Configure credentials as for the AWS CLI: aws configure / aws sso login, AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.',
    });
  }

  if (credentialsOk && resolvedRegion) {
    const target = `${functionName}${qualifier ? `:${qualifier}` : ''}`;
    try {
      const started = performance.now();
      const output = await lambda.send(
        new InvokeCommand({ FunctionName: functionName, Qualifier: qualifier, Payload: Buffer.from(JSON.stringify({ protocolVersion: PROTOCOL_VERSION, kind: 'ping' })) }),
      );
      const ms = performance.now() - started;
      const body = output.Payload ? Buffer.from(output.Payload).toString('utf8') : '';
      const parsed = safeJson(body) as { protocolVersion?: unknown } | undefined;
      const pong = PongSchema.safeParse(parsed);
      if (output.FunctionError) {
        report({ ok: false, title: 'Function', detail: `${target} failed (${output.FunctionError}): ${body.slice(0, 200)}`, fix: 'Redeploy: npx jest-runner-remote-lambda deploy.' });
      } else if (parsed?.protocolVersion !== undefined && parsed.protocolVersion !== PROTOCOL_VERSION) {
        report({
          ok: false,
          title: 'Function',
          detail: `${target} runs a handler of protocol ${JSON.stringify(parsed.protocolVersion)}; this runner (${PACKAGE_VERSION}) speaks protocol ${PROTOCOL_VERSION}`,
          fix: `Deploy the handler of this version: npx jest-runner-remote-lambda deploy --function ${functionName}.`,
        });
      } else if (!pong.success) {
        report({
          ok: false,
          title: 'Function',
          detail: `${target} does not answer like a jest-runner-remote-lambda handler: ${body.slice(0, 120)}`,
          fix: `Deploy it: npx jest-runner-remote-lambda deploy --function ${functionName}.`,
        });
      } else {
        const p = pong.data;
        report({
          ok: true,
          title: 'Function',
          detail: `${target}: handler ${p.handlerVersion} (protocol ${p.protocolVersion}) on Node ${p.node} ${p.arch}, ${p.warm ? 'warm' : 'cold'}, round trip ${ms.toFixed(0)} ms` +
            (p.tmpFreeBytes !== undefined ? `, ${(p.tmpFreeBytes / 1024 / 1024).toFixed(0)} MB free in /tmp` : ''),
        });
        const remoteMajor = p.node.replace(/^v/, '').split('.')[0];
        report({
          ok: remoteMajor === String(nodeMajor),
          title: 'Node versions',
          detail: `local ${process.version}, function ${p.node}`,
          fix: 'Built-in error messages can differ between majors (assertions, snapshots): deploy with --runtime nodejs<your major>.x where Lambda offers it, or run Jest locally on the function\'s major.',
        });
        if (p.handlerVersion !== PACKAGE_VERSION) {
          report({ ok: false, title: 'Handler version', detail: `function ${p.handlerVersion}, runner ${PACKAGE_VERSION}`, fix: 'Redeploy so both are the same: npx jest-runner-remote-lambda deploy.' });
        }
      }
    } catch (error) {
      const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
      const status = e.$metadata?.httpStatusCode;
      const fix =
        e.name === 'ResourceNotFoundException' || status === 404
          ? `Check the name (JEST_REMOTE_LAMBDA_FUNCTION, --function) and the region, or create it: npx jest-runner-remote-lambda deploy --function ${functionName}.`
          : e.name === 'AccessDeniedException' || status === 403
            ? 'Grant lambda:InvokeFunction on the function (npx jest-runner-remote-lambda policy prints the policy).'
            : 'Check the network and the endpoint (AWS_ENDPOINT_URL_LAMBDA), then run doctor again.';
      report({ ok: false, title: 'Function', detail: `${target} in ${resolvedRegion}: ${e.name ?? 'Error'}: ${(e.message ?? '').split('\n')[0]}`, fix });
    }
  }
  lambda.destroy();

  if (bucket) {
    if (!credentialsOk) report({ ok: 'skip', title: 'Bucket', detail: `s3://${bucket}: not checked without credentials` });
    else {
      try {
        await s3Client(region).send(new HeadBucketCommand({ Bucket: bucket }));
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
  } else {
    report({ ok: 'skip', title: 'Bucket', detail: 'none set: blobs travel inside invocations (set JEST_REMOTE_LAMBDA_BUCKET for large projects)' });
  }
  return summary(checks, out);
}

function summary(checks: Check[], out: (s: string) => void): number {
  const failed = checks.filter((c) => c.ok === false).length;
  out(failed === 0 ? '\nAll checks passed.\n' : `\n${failed} check(s) failed.\n`);
  return failed === 0 ? 0 : 1;
}

function safeJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

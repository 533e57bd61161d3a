/** The README stays true: every option is in the options table, quoted messages are the code's own. */
import fs from 'node:fs';
import path from 'node:path';
import { RemoteLambdaOptionsSchema, envName } from '../src/options';
import { REPO } from './support/run-jest';

const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
const sources = ['src', 'handler']
  .flatMap((dir) => fs.readdirSync(path.join(REPO, dir), { recursive: true }).map((f) => path.join(REPO, dir, String(f))))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => fs.readFileSync(f, 'utf8'))
  .join('\n');

test('every option is documented in the options table, with its environment variable', () => {
  const rows = readme.split('\n').filter((l) => /^\| `\w+` \| `JEST_REMOTE_LAMBDA_/.test(l));
  const documented = rows.map((r) => /^\| `(\w+)` \| `(\w+)`/.exec(r)!.slice(1, 3));
  const options = Object.keys(RemoteLambdaOptionsSchema.shape).sort();
  expect(documented.map(([o]) => o).sort()).toEqual(options);
  for (const [option, env] of documented) expect(env).toBe(envName(option!));
});

test('the troubleshooting section quotes messages the code really prints', () => {
  const section = readme.slice(readme.indexOf('## Troubleshooting'), readme.indexOf('## Limits and known gaps'));
  // the fixed parts of each quoted message (variable parts are names, sizes and counts)
  const fragments = [
    'Unknown jest-runner-remote-lambda option',
    'Did you mean',
    'Unknown environment variable',
    'expected an S3 bucket name',
    'Option "backend" is "lambda" but no function is named.',
    'does not exist in this account and region',
    'Not allowed to invoke',
    'could not get a result for this file',
    'is throttled (429 TooManyRequests)',
    'runs a handler of protocol',
    'this file exists on this machine but was not shipped with the test:',
    'Lambda accepts 6 MB per invocation.',
    'a Lambda response holds at most 6 MB.',
    '(its blobs and the tree made from them), but only',
    'Could not ${what} the shared store',
    "cannot run under Yarn Plug'n'Play",
    'cannot load on the function',
    'the Lambda function cannot be used',
    'file(s) held back on this machine because they look like secrets',
    'this file was held back on this machine because it looks like a secret:',
  ];
  for (const fragment of fragments) {
    expect({ fragment, inCode: sources.includes(fragment) }).toEqual({ fragment, inCode: true });
    expect({ fragment, inReadme: section.includes(fragment.replace('${what}', 'upload to')) }).toEqual({ fragment, inReadme: true });
  }
});

test("the README's two set-up commands exist", () => {
  const scripts = (JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  expect(readme).toContain('npm ci && npm run example');
  expect(readme).toContain('npm test ');
  expect(scripts.example).toContain('examples/typescript-basics');
  expect(scripts.test).toBeDefined();
  expect(fs.readFileSync(path.join(REPO, '.ci', 'run'), 'utf8')).toContain('npm test');
});

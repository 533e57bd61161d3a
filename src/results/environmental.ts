/**
 * Whether a file's remote failure looks like the environment's doing rather than the test's: a
 * tool that is not there (git, a binary), a service on this machine's loopback, a read-only folder,
 * a file that exists here but was not shipped, a native module built for another platform. Such a
 * file runs again on this machine (the `rerunLocally` option); a plain test failure never does.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FileOutcome } from '../dispatch';

const ANSI = /\u001b\[[0-9;]*m/g; // eslint-disable-line no-control-regex -- colours in Jest's messages

const SIGNS: Array<{ pattern: RegExp; why: (m: RegExpMatchArray) => string }> = [
  { pattern: /\bspawn(?:Sync)? (\S+) (ENOENT|EACCES)\b/, why: (m) => `spawn ${m[1]} ${m[2]} (the program is not there)` },
  { pattern: /\b(?:sh|bash|zsh)(?:: line \d+)?:(?: \d+:)? (\S+?):? (?:command )?not found/, why: (m) => `${m[1]}: command not found` },
  { pattern: /not a git repository/i, why: () => 'not a git repository (the checkout has no .git there)' },
  { pattern: /\bECONNREFUSED (127\.\d+\.\d+\.\d+|::1|\[::1\]|localhost)(:\d+)?/, why: (m) => `ECONNREFUSED ${m[1]}${m[2] ?? ''} (a service on this machine)` },
  { pattern: /\bEROFS: read-only file system, \w+ '([^']+)'/, why: (m) => `EROFS writing ${m[1]}` },
  {
    pattern: /\bEACCES: permission denied, (?:open|mkdir|mkdtemp|write|rename|unlink|rmdir|copyfile|symlink) '((?!\/tmp\/)[^']+)'/,
    why: (m) => `EACCES writing ${m[1]}`,
  },
  {
    pattern: /invalid ELF header|was compiled against a different Node\.js version|Failed to load native binding|not a valid Win32 application|wrong ELF class/,
    why: (m) => `${m[0]} (a native module built for another platform)`,
  },
];

const ENOENT = /ENOENT: no such file or directory, \w+ '([^']+)'/g;

/**
 * The reason a failed outcome looks environmental (one line, for the summary), or undefined.
 * `shipped` says whether a local file travelled with the file's project.
 */
export function environmentalFailure(
  outcome: FileOutcome,
  shipped: (file: string) => boolean,
  heldBack: (file: string) => string | undefined = () => undefined,
): string | undefined {
  const texts = failureTexts(outcome).map((t) => t.replace(ANSI, ''));
  for (const text of texts) {
    for (const sign of SIGNS) {
      const m = text.match(sign.pattern);
      if (m) return sign.why(m);
    }
    for (const m of text.matchAll(ENOENT)) {
      const file = m[1]!;
      if (path.isAbsolute(file) && fs.existsSync(file) && !shipped(file)) {
        return `ENOENT ${file} (${heldBack(file) === undefined ? 'it exists here but was not shipped' : 'held back here: it looks like a secret'})`;
      }
    }
  }
  // A failed file whose tests tried to start a program the function lacks, even when the code under
  // test caught the error (and a test then failed on its consequence, a null where a path was due)
  const missing = outcome.kind === 'result' || outcome.kind === 'failure' ? outcome.missingPrograms : undefined;
  if (missing?.length && texts.length > 0) return `${missing.join(', ')} could not be started there (not on the function)`;
  return undefined;
}

/**
 * Why a file that passed remotely must run here all the same when coverage is collected: its tests
 * tried to start a program the function lacks, so the code took another branch there (an error
 * path) and its coverage would not be this machine's. Undefined when nothing says so.
 */
export function coverageWouldDiffer(outcome: FileOutcome): string | undefined {
  const missing = outcome.kind === 'result' ? outcome.missingPrograms : undefined;
  return missing?.length ? `${missing.join(', ')} could not be started there (not on the function), so its coverage would differ` : undefined;
}

/** The failure messages of a file that failed on its own (not a fault of the runner or its backend). */
function failureTexts(outcome: FileOutcome): string[] {
  if (outcome.kind === 'failure') return outcome.fault ? [] : [outcome.error.message, outcome.error.stack ?? ''];
  if (outcome.kind !== 'result') return [];
  const result = outcome.result as { failureMessage?: unknown; testExecError?: { message?: unknown }; testResults?: Array<{ failureMessages?: unknown[] }> };
  const texts: unknown[] = [result.failureMessage, result.testExecError?.message];
  for (const t of result.testResults ?? []) texts.push(...(t.failureMessages ?? []));
  return texts.filter((t): t is string => typeof t === 'string' && t.length > 0);
}

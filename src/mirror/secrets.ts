/**
 * What looks like a secret, by a file's name and by its content. Both lists are deliberately
 * narrow (high confidence): a hit keeps a file on this machine, and a false one costs a test its
 * file. Written here rather than taken from secretlint's recommended preset: that preset is
 * ESM-only (13.x) with an async, per-file linting core, and the runner builds its mirror
 * synchronously from a CommonJS build that still supports Node 20 (no `require(esm)` there).
 */

/** Why a name looks like a credential; undefined when it does not. `rel` is the tree's posix path. */
export function credentialName(rel: string): string | undefined {
  const segments = rel.split('/');
  const name = segments[segments.length - 1]!.toLowerCase();
  const dirs = segments.slice(0, -1).map((s) => s.toLowerCase());
  for (const dir of CREDENTIAL_DIRS) if (dirs.includes(dir)) return `in a ${dir}/ folder`;
  if (dirs[dirs.length - 1] === '.docker' && name === 'config.json') return 'Docker credentials';
  if (name === '.env' || name.startsWith('.env.') || name.endsWith('.env')) return 'an environment file';
  if (CREDENTIAL_FILES.has(name)) return 'a credentials file';
  if (/^id_(rsa|dsa|ecdsa|ed25519)(_sk)?$/.test(name)) return 'an SSH private key';
  const ext = name.includes('.') ? name.slice(name.lastIndexOf('.')) : '';
  if (KEY_EXTENSIONS.has(ext)) return `a key file (${ext})`;
  if (ext === '.json' && /^(credentials|client_secret)|service[-_]?account/.test(name)) return 'a cloud credentials file';
  return undefined;
}

const CREDENTIAL_DIRS = ['.aws', '.ssh', '.gnupg', '.azure', '.kube'];
const CREDENTIAL_FILES = new Set(['.netrc', '_netrc', '.git-credentials', '.pgpass', '.htpasswd', '.boto', '.terraformrc', 'credentials.tfrc.json']);
const KEY_EXTENSIONS = new Set(['.pem', '.key', '.p12', '.pfx', '.jks', '.keystore', '.ppk', '.kdbx']);

export interface Finding {
  /** 1-based line of the match. */
  line: number;
  /** What was found, with the secret masked, e.g. "npm token npm_…(40 chars)". */
  what: string;
  /** A finding that counts only in files of these names (loose formats of package managers' configs). */
  onlyIn?: string[];
}

interface Rule {
  name: string;
  pattern: RegExp;
  /** Group holding the secret itself (masked when shown). @default 0 */
  group?: number;
  /** Matches that are documentation examples, not secrets. */
  ignore?: RegExp;
  /** Counts only in files of these names. */
  onlyIn?: string[];
  /** Literal text every match contains: the pattern runs only on files holding one (most hold none). */
  hints: string[];
}

const NPMRC = ['.npmrc', '.yarnrc'];

/**
 * High-confidence secret formats: each has a fixed vendor prefix or armour line, so ordinary code
 * and data almost never match. Bump RULES_VERSION when this list changes (cached verdicts expire).
 */
const RULES: Rule[] = [
  { name: 'private key', pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/, hints: ['PRIVATE KEY'] },
  // (AWS's documentation examples end in EXAMPLE, e.g. AKIAIOSFODNN7EXAMPLE)
  { name: 'AWS access key id', pattern: /\b((?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b/, group: 1, ignore: /EXAMPLE$/, hints: ['AKIA', 'ASIA', 'ABIA', 'ACCA'] },
  {
    name: 'AWS secret access key',
    pattern: /\baws_?secret_?access_?key["']?\s*[:=]\s*["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])/i,
    group: 1,
    ignore: /EXAMPLE/,
    hints: ['ecret', 'ECRET'],
  },
  { name: 'npm token', pattern: /\bnpm_[A-Za-z0-9]{36}\b/, hints: ['npm_'] },
  // ("${NPM_TOKEN}" is a reference to the environment, not a secret)
  { name: 'npm auth token', pattern: /\/\/[^\s:]+\/:_(?:authToken|auth|password)\s*=\s*["']?((?!\$\{)[^\s"']{8,})/, group: 1, hints: ['_auth', '_password'] },
  {
    name: 'npm auth token',
    pattern: /^\s*_(?:authToken|auth|password)\s*=\s*["']?((?!\$\{)[^\s"']{8,})/m,
    group: 1,
    onlyIn: NPMRC,
    hints: ['_auth', '_password'],
  },
  { name: 'Yarn auth token', pattern: /\bnpmAuth(?:Token|Ident)\s*:\s*["']?((?!\$\{)[^\s"']{8,})/, group: 1, onlyIn: ['.yarnrc.yml'], hints: ['npmAuth'] },
  { name: 'PyPI password', pattern: /^\s*password\s*[:=]\s*(\S{8,})/m, group: 1, onlyIn: ['.pypirc'], hints: ['password'] },
  { name: 'PyPI token', pattern: /\bpypi-AgE[A-Za-z0-9_-]{50,}/, hints: ['pypi-AgE'] },
  { name: 'GitHub token', pattern: /\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b/, hints: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'] },
  { name: 'GitHub token', pattern: /\bgithub_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}\b/, hints: ['github_pat_'] },
  { name: 'GitLab token', pattern: /\bglpat-[A-Za-z0-9_-]{20}\b/, hints: ['glpat-'] },
  { name: 'Slack token', pattern: /\bxox[baprs]-[A-Za-z0-9-]{10,}/, hints: ['xox'] },
  { name: 'Slack webhook', pattern: /https:\/\/hooks\.slack\.com\/services\/T[A-Z0-9]+\/B[A-Z0-9]+\/[A-Za-z0-9]{20,}/, hints: ['hooks.slack.com'] },
  { name: 'Stripe key', pattern: /\b(?:sk|rk)_live_[A-Za-z0-9]{24,}\b/, hints: ['_live_'] },
  { name: 'Google API key', pattern: /\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/, hints: ['AIza'] },
  { name: 'Anthropic key', pattern: /\bsk-ant-(?:api|admin)\d\d-[A-Za-z0-9_-]{80,}/, hints: ['sk-ant-'] },
  { name: 'OpenAI key', pattern: /\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}/, hints: ['sk-proj-', 'sk-svcacct-', 'sk-admin-'] },
  { name: 'SendGrid key', pattern: /\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b/, hints: ['SG.'] },
];
export const RULES_VERSION = 1;

/** Larger files are not scanned (bundles, data): secrets live in small config and source files. */
export const MAX_SCAN_BYTES = 2 * 1024 * 1024;

/**
 * Findings in a file's bytes, whatever its name (callers drop those whose `onlyIn` does not name
 * the file, so one verdict per content serves every name): none for binary (a NUL byte early on)
 * or oversized content.
 */
export function scanContent(bytes: Buffer): Finding[] {
  if (bytes.length > MAX_SCAN_BYTES || bytes.subarray(0, 8000).includes(0)) return [];
  const text = bytes.toString('utf8');
  const findings: Finding[] = [];
  for (const rule of RULES) {
    if (!rule.hints.some((h) => text.includes(h))) continue;
    const global = new RegExp(rule.pattern.source, rule.pattern.flags.includes('g') ? rule.pattern.flags : `${rule.pattern.flags}g`);
    for (const m of text.matchAll(global)) {
      const secret = m[rule.group ?? 0]!;
      if (rule.ignore?.test(secret)) continue;
      findings.push({
        line: lineAt(text, m.index! + m[0].indexOf(secret)),
        what: `${rule.name} ${mask(secret, rule)}`,
        ...(rule.onlyIn ? { onlyIn: rule.onlyIn } : {}),
      });
      break; // one finding per rule and file is enough to hold it back
    }
  }
  return findings.sort((a, b) => a.line - b.line);
}

/** A secret shown by its first characters only: "npm_…(40 chars)"; armour lines are not secret. */
export function mask(secret: string, rule?: Pick<Rule, 'name'>): string {
  if (rule?.name === 'private key') return 'block';
  return `${secret.slice(0, Math.min(4, Math.floor(secret.length / 5)))}…(${secret.length} chars)`;
}

function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

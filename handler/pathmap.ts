/**
 * Rewrites absolute path prefixes inside arbitrary JSON-like values: local paths become remote
 * paths on the way in, remote paths become local on the way out (results, stacks, messages).
 * Several prefixes can be mapped at once (a checkout, and folders its links lead to outside it);
 * at each place the longest prefix that matches wins, and each text is rewritten in one pass, so a
 * rewritten path is never rewritten again.
 */
export class PathMap {
  /** [from, to], longest `from` first. */
  readonly #rules: Array<[string, string]>;

  constructor(from: string | Array<[string, string]>, to?: string) {
    const rules: Array<[string, string]> = typeof from === 'string' ? [[from, to ?? '']] : from;
    this.#rules = rules.map(([f, t]): [string, string] => [stripTrailingSlash(f), stripTrailingSlash(t)]).sort((a, b) => b[0].length - a[0].length);
  }

  path(p: string): string {
    for (const [from, to] of this.#rules) {
      if (p === from) return to || '/';
      if (p.startsWith(from + '/')) return to + p.slice(from.length);
    }
    return p;
  }

  /** Replaces every occurrence at a path boundary, also inside longer strings (stack traces). */
  string(s: string): string {
    const rules = this.#rules.filter(([from, to]) => from !== to && s.includes(from));
    if (rules.length === 0) return s;
    let out = '';
    let i = 0;
    for (;;) {
      let at = -1;
      let rule: [string, string] | undefined;
      for (const r of rules) {
        const found = s.indexOf(r[0], i);
        // (earliest; at the same place the longest, which comes first)
        if (found !== -1 && (at === -1 || found < at)) [at, rule] = [found, r];
      }
      if (!rule) return out + s.slice(i);
      const [from, to] = rule;
      const next = s.charCodeAt(at + from.length);
      // only at a path boundary: "/base" must not rewrite "/base2"
      const boundary = Number.isNaN(next) || !/[A-Za-z0-9_.-]/.test(String.fromCharCode(next));
      out += s.slice(i, at) + (boundary ? to : from);
      i = at + from.length;
    }
  }

  deep<T>(value: T): T {
    return rewrite(value, (s) => this.string(s)) as T;
  }
}

function rewrite(value: unknown, fn: (s: string) => string): unknown {
  if (typeof value === 'string') return fn(value);
  if (Array.isArray(value)) return value.map((v) => rewrite(v, fn));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[fn(k)] = rewrite(v, fn);
    return out;
  }
  return value;
}

function stripTrailingSlash(p: string): string {
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}

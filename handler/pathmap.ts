/**
 * Rewrites absolute path prefixes inside arbitrary JSON-like values: local paths become remote
 * paths on the way in, remote paths become local on the way out (results, stacks, messages).
 */
export class PathMap {
  readonly #from: string;
  readonly #to: string;

  constructor(from: string, to: string) {
    this.#from = stripTrailingSlash(from);
    this.#to = stripTrailingSlash(to);
  }

  path(p: string): string {
    if (p === this.#from) return this.#to || '/';
    if (p.startsWith(this.#from + '/')) return this.#to + p.slice(this.#from.length);
    return p;
  }

  /** Replaces every occurrence at a path boundary, also inside longer strings (stack traces). */
  string(s: string): string {
    if (this.#from === this.#to || !s.includes(this.#from)) return s;
    let out = '';
    let i = 0;
    for (;;) {
      const at = s.indexOf(this.#from, i);
      if (at === -1) return out + s.slice(i);
      const next = s.charCodeAt(at + this.#from.length);
      // only at a path boundary: "/base" must not rewrite "/base2"
      const boundary = Number.isNaN(next) || !/[A-Za-z0-9_.-]/.test(String.fromCharCode(next));
      out += s.slice(i, at) + (boundary ? this.#to : this.#from);
      i = at + this.#from.length;
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

/** The forwarded environment of a project, set around what runs under it. */

/** Sets the forwarded variables and removes `unset`; returns a function that puts the previous values back. */
export function applyEnv(vars: Record<string, string>, unset: string[] = []): () => void {
  const previous = [...Object.keys(vars), ...unset].map((k): [string, string | undefined] => [k, process.env[k]]);
  for (const name of unset) delete process.env[name];
  Object.assign(process.env, vars);
  return () => {
    for (const [k, v] of previous) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

/** Runs `fn` under the project's variables (Jest's modules read some when they load). */
export function underEnv<T>(vars: Record<string, string>, unset: string[] | undefined, fn: () => T): T {
  const restore = applyEnv(vars, unset);
  try {
    return fn();
  } finally {
    restore();
  }
}

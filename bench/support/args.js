/**
 * Flags of the benchmarks, parsed with node:util parseArgs: `--name=value` for each declared
 * option, `--quick` for a small run (a few files, one run: `npm test` runs every bench this way, so
 * none can rot unnoticed) and `--json=<file>` for where the results go. A quick run writes its
 * results to a temporary folder, never over the committed ones in bench/results.
 */
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');

/**
 * `defaults`: name -> value (numbers, strings or booleans; the type of each flag); `quick`: the
 * values a quick run uses instead. Returns the values, `quick`, `json` (the results file) and the
 * positional arguments.
 */
function benchArgs(name, { defaults = {}, quick = {} } = {}, argv = process.argv.slice(2)) {
  const options = { quick: { type: 'boolean' }, json: { type: 'string' } };
  for (const [key, value] of Object.entries(defaults)) options[key] = { type: typeof value === 'boolean' ? 'boolean' : 'string' };
  const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  const base = values.quick ? { ...defaults, ...quick } : defaults;
  const out = { quick: Boolean(values.quick), positionals };
  for (const [key, fallback] of Object.entries(base)) {
    const raw = values[key];
    if (raw === undefined) out[key] = fallback;
    else if (typeof fallback === 'number') {
      out[key] = Number(raw);
      if (!Number.isFinite(out[key])) throw new Error(`--${key} needs a number, got "${raw}"`);
    } else out[key] = raw;
  }
  const resultsDir = values.quick ? path.join(os.tmpdir(), 'jrl-bench-quick') : path.resolve(__dirname, '..', 'results');
  out.json = values.json ? path.resolve(values.json) : path.join(resultsDir, `${name}.json`);
  return out;
}

/** The figures of a run as one JSON object on the last line of stdout (what tests and scripts read). */
function printFigures(figures) {
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

module.exports = { benchArgs, printFigures };

export const APP_NAME = __APP_NAME__;
export const VERSION = __APP_VERSION__;

export function parseVersion(text) {
  const match = /^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?$/.exec(text);
  if (!match) throw new Error(`Invalid version: ${text}`);
  const [, major, minor, patch, prerelease] = match;
  return { major: Number(major), minor: Number(minor), patch: Number(patch), prerelease: prerelease ?? null };
}

export function compareVersions(a, b) {
  const x = parseVersion(a);
  const y = parseVersion(b);
  for (const key of ['major', 'minor', 'patch']) {
    if (x[key] !== y[key]) return x[key] < y[key] ? -1 : 1;
  }
  if (x.prerelease === y.prerelease) return 0;
  if (x.prerelease === null) return 1;
  if (y.prerelease === null) return -1;
  return x.prerelease < y.prerelease ? -1 : 1;
}

/** True when the running app satisfies a "^major.minor.patch" style range. */
export function satisfiesCaret(range) {
  const wanted = parseVersion(range.replace(/^\^/, ''));
  const current = parseVersion(__APP_VERSION__);
  return current.major === wanted.major && compareVersions(__APP_VERSION__, range.replace(/^\^/, '')) >= 0;
}

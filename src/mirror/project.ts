/**
 * The description of one Jest project as the handler receives it: the tree (a manifest), the
 * user's Jest, the normalized config, the module map and the forwarded environment. Its key, the
 * sha256 of the bytes that travel, is computed here once; a remote tree's manifest travels as
 * content-addressed parts, so an unchanged listing costs nothing the next time.
 */
import type { Test } from '@jest/test-result';
import { encodeProject, type Hash, type ProjectPayload } from '../protocol';
import type { ShippableProject } from '../ship/delivery';
import { splitManifest } from '../ship/manifest-parts';
import { sha256 } from '../ship/sha256';
import type { RunSettings } from '../options';
import type { Mirror } from './walk';

/** Variables that cross to a remote process besides the `env` option: Jest's own and the locale's. */
const FORWARDED_ENV = ['NODE_ENV', 'TZ', 'CI', 'LANG', 'LC_ALL'];

/** `packages`: the installed packages every file needs, when only the needed ones travel (see ./needs.ts). */
export function describeProject(test: Test, mirror: Mirror, settings: RunSettings, packages?: string[]): ShippableProject {
  const { config } = test.context;
  const { jest, remote, inPlace } = settings;
  const base: Omit<ProjectPayload, 'key'> = {
    localBase: mirror.localBase,
    manifest: mirror.manifest,
    ...(mirror.aliases ? { aliases: mirror.aliases } : {}),
    cwd: config.cwd,
    jest: { version: jest.version, runner: jest.runner, runtime: jest.runtime, hasteMap: jest.hasteMap },
    config: jsonClone(config) as Record<string, unknown>,
    moduleMap: test.context.moduleMap.toJSON(),
    env: remote ? forwardedEnv(settings.options.env, jest.forceColor) : {},
    // (colour libraries disable themselves when NO_COLOR is set at all, even to '')
    ...(remote && process.env.NO_COLOR === undefined ? { unsetEnv: ['NO_COLOR'] } : {}),
    ...(inPlace ? { inPlace } : {}),
    ...(packages ? { packages } : {}),
  };
  if (!remote) return { payload: { ...base, key: sha256(encodeProject(base)) }, manifest: mirror.manifest, sources: mirror.sources, ownBlobs: new Map() };
  // Remote: the description is a blob itself, its manifest only the list of its parts.
  const { root, parts } = splitManifest(mirror.manifest);
  const described = { ...base, manifest: root };
  const blob = encodeProject(described);
  const key = sha256(blob);
  const ownBlobs = new Map<Hash, Buffer>([[key, blob], ...parts]);
  return { payload: { ...described, key }, manifest: mirror.manifest, sources: mirror.sources, ownBlobs };
}

/** What crosses to a remote process: Jest's own NODE_ENV, locale and time zone, and an allowlist. */
function forwardedEnv(allow: string[], forceColor: boolean): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of [...FORWARDED_ENV, ...allow]) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  // Matcher messages (and so snapshots) depend on colour: use the decision Jest's workers would get.
  env.FORCE_COLOR = forceColor ? '1' : '0';
  if (process.env.NO_COLOR !== undefined) env.NO_COLOR = process.env.NO_COLOR;
  return env;
}

function jsonClone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

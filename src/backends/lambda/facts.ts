/**
 * What the runner has learned about a function from its answers (every answer says where it was
 * made): its platform and architecture, Node version and whether it has VM modules. Kept in the
 * runner's cache per function, so the next run ships for the right platform and checks native
 * ESM before the first file without asking the function first.
 */
import fs from 'node:fs';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import type { Host } from '../../protocol';
import { sha256 } from '../../ship/sha256';

export interface FunctionFacts {
  platform: string;
  arch: string;
  node: string;
  vmModules?: boolean;
  /** When they were learned (ISO date). */
  learnedAt: string;
}

export class FunctionFactsCache {
  readonly #file: string;
  #facts: FunctionFacts | undefined;

  /** `identity`: what names the function (endpoint, region, name, qualifier). */
  constructor(cacheDir: string, identity: string) {
    this.#file = path.join(cacheDir, 'functions', `${sha256(identity).slice(0, 16)}.json`);
    try {
      this.#facts = JSON.parse(fs.readFileSync(this.#file, 'utf8')) as FunctionFacts;
    } catch {
      this.#facts = undefined;
    }
  }

  get known(): FunctionFacts | undefined {
    return this.#facts;
  }

  /** Takes what an answer says; written at once when it differs from what was known. */
  learn(host: Host): void {
    const facts: FunctionFacts = {
      platform: host.platform ?? 'linux',
      arch: host.arch,
      node: host.node,
      vmModules: host.vmModules,
      learnedAt: new Date().toISOString(),
    };
    const known = this.#facts;
    if (known && known.platform === facts.platform && known.arch === facts.arch && known.node === facts.node && known.vmModules === facts.vmModules) return;
    this.#facts = facts;
    try {
      fs.mkdirSync(path.dirname(this.#file), { recursive: true });
      writeFileAtomic.sync(this.#file, JSON.stringify(facts), { fsync: false });
    } catch {
      // a cache: the next run learns it again
    }
  }
}

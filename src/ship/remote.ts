/**
 * Delivery to Lambda containers. With a bucket, every pack the manifest needs is made present in
 * the shared S3 store before the first invocation (only the missing ones are uploaded) and cold
 * containers download what they lack; a pack the bucket lost (a lifecycle rule) is put back when a
 * container asks for it. Without a bucket, a container that lacks blobs answers "need these" and
 * gets them inside the next request, compressed, in as many rounds as the 6 MB limit needs.
 */
import fs from 'node:fs';
import zlib from 'node:zlib';
import { TransportError } from '../errors';
import { LAMBDA_PAYLOAD_LIMIT_BYTES, type Hash, type Manifest, type RunRequest, type Store } from '../protocol';
import type { Progress } from '../results/progress';
import { NO_SHIP_STATS, type ShipStats } from './blob-store';
import { noDeliveryStats, type Delivery, type ShippableProject } from './delivery';
import { encodePackSync, encodePiece, packsOf, singlePacks } from './pack';
import { S3PackStore } from './s3-upload';
import { sha256 } from './sha256';

/** Room kept for the JSON envelope around inline blobs. */
const PAYLOAD_MARGIN_BYTES = 64 * 1024;
/** A pack for one inline round is built from at most this many raw bytes (then shrunk to fit). */
const INLINE_RAW_CAP_BYTES = 24 * 1024 * 1024;

export class RemoteDelivery implements Delivery {
  readonly stats = noDeliveryStats();
  readonly store: Store | undefined;
  readonly #s3: S3PackStore | undefined;
  /** Where this run's blobs are on this machine (hash -> file), and their sizes. */
  readonly #sources = new Map<Hash, string>();
  readonly #sizes = new Map<Hash, number>();
  /** Blobs made by the runner itself: project descriptions and manifest parts. */
  readonly #ownBlobs = new Map<Hash, Buffer>();
  /** Packs put back into the bucket after a container found them missing. */
  readonly #putBack = new Set<Hash>();
  /** Blobs that do not fit one request even compressed: they travel in pieces. */
  readonly #inPieces = new Set<Hash>();
  #inPiecesNow: { hash: Hash; bytes: Buffer } | undefined;
  /** Project key -> the full manifest and the runner's own blobs it needs. */
  readonly #projects = new Map<Hash, { manifest: Manifest; own: Hash[] }>();

  constructor(options: { store?: Store; cacheDir: string }) {
    this.store = options.store;
    this.#s3 = options.store && new S3PackStore(options.store, options.cacheDir);
  }

  async ship(project: ShippableProject, progress?: Progress): Promise<ShipStats> {
    for (const [hash, file] of project.sources) this.#sources.set(hash, file);
    for (const f of project.manifest.files) this.#sizes.set(f.hash, f.size);
    for (const [hash, bytes] of project.ownBlobs) {
      this.#ownBlobs.set(hash, bytes);
      this.#sizes.set(hash, bytes.length);
    }
    const own = [...project.ownBlobs.keys()];
    this.#projects.set(project.payload.key, { manifest: project.manifest, own });
    // Containers that lack blobs ask for them ("need-blobs") and get them inline.
    if (!this.#s3) return { ...NO_SHIP_STATS };
    const packs = new Map([...packsOf(project.manifest), ...singlePacks(own)]);
    const uploaded = await this.#upload(packs, false, progress);
    return { newBlobs: uploaded.uploaded, newBytes: uploaded.uploadedBytes, cachedBlobs: uploaded.present, cachedBytes: uploaded.presentBytes };
  }

  async publish(bytes: Buffer): Promise<Hash | undefined> {
    if (!this.#s3) return undefined;
    const key = sha256(bytes);
    this.#ownBlobs.set(key, bytes);
    this.#sizes.set(key, bytes.length);
    // (the runner's bookkeeping, not the project's code: not in the shipped figures)
    await this.#s3.ensure(
      singlePacks([key]),
      (h) => this.#read(h),
      (h) => this.#sizes.get(h) ?? 0,
    );
    return key;
  }

  async supply(request: RunRequest, missing: Hash[], partial: Record<Hash, number> = {}): Promise<Pick<RunRequest, 'pack' | 'piece'>> {
    const known = this.#projects.get(request.projectKey);
    if (!known) throw new TransportError(`The handler asked for blobs of a project this run does not know (${request.projectKey}).`, false);
    if (!this.#s3) {
      const inline = this.#inline(request, missing, partial);
      this.stats.inlineBytes += inline.pack?.length ?? inline.piece?.data.length ?? 0;
      return inline;
    }
    // The bucket lost them (a lifecycle rule, a cleaned prefix): put them back and ask again.
    const wanted = new Set(missing);
    const lost = new Map([...packsOf(known.manifest, wanted), ...singlePacks(known.own.filter((h) => wanted.has(h)))]);
    // Once each: a pack put back minutes ago that a container still cannot read is not lost but
    // unreadable for a moment (another upload of it under way); asking again is enough.
    const packs = new Map([...lost].filter(([key]) => !this.#putBack.has(key)));
    for (const key of packs.keys()) this.#putBack.add(key);
    this.#s3.forget(packs.keys());
    await this.#upload(packs, true);
    return {};
  }

  async #upload(packs: Map<Hash, Hash[]>, force: boolean, progress?: Progress) {
    const uploaded = await this.#s3!.ensure(
      packs,
      (h) => this.#read(h),
      (h) => this.#sizes.get(h) ?? 0,
      force,
      progress,
    );
    this.stats.uploadedPacks += uploaded.uploaded;
    this.stats.uploadedBytes += uploaded.uploadedBytes;
    return uploaded;
  }

  /**
   * As many of `missing` as fit beside `request` in one invocation, as one compressed pack: built
   * from a raw-byte cap, then shrunk until its base64 fits what the 6 MB limit leaves. A blob that
   * does not fit alone even compressed (a native binary, a big fixture) travels in pieces instead,
   * one per request, each going on from where the environment says it has come (`partial`); the
   * blobs that fit go first.
   */
  #inline(request: RunRequest, missing: Hash[], partial: Record<Hash, number>): Pick<RunRequest, 'pack' | 'piece'> {
    const budget = LAMBDA_PAYLOAD_LIMIT_BYTES - PAYLOAD_MARGIN_BYTES - Buffer.byteLength(JSON.stringify(request));
    const unique = [...new Set(missing)].filter((h) => !this.#inPieces.has(h));
    let cap = INLINE_RAW_CAP_BYTES;
    // (read and checked once, however many rounds it takes to find what fits)
    const read = new Map<Hash, Buffer>();
    const bytesOf = (hash: Hash) => read.get(hash) ?? read.set(hash, this.#read(hash)).get(hash)!;
    while (unique.length > 0) {
      const chosen: Array<[Hash, Buffer]> = [];
      let raw = 0;
      for (const hash of unique) {
        const size = this.#sizes.get(hash) ?? 0;
        if (chosen.length > 0 && raw + size > cap) continue;
        chosen.push([hash, bytesOf(hash)]);
        raw += size;
      }
      const base64 = encodePackSync(chosen, zlib.constants.Z_BEST_SPEED).toString('base64');
      if (base64.length <= budget) return { pack: base64 };
      if (chosen.length === 1) {
        this.#inPieces.add(chosen[0]![0]);
        unique.shift();
        cap = INLINE_RAW_CAP_BYTES;
        continue;
      }
      cap = Math.max(1, Math.floor(raw * (budget / base64.length) * 0.9));
    }
    const hash = missing.find((h) => this.#inPieces.has(h))!;
    return { piece: this.#piece(hash, partial[hash] ?? 0, budget) };
  }

  /** The piece of a blob from `offset` that fits `budget` bytes of base64 (raw bytes, since what does not fit compressed hardly compresses). */
  #piece(hash: Hash, offset: number, budget: number): NonNullable<RunRequest['piece']> {
    // (read and checked once for all its pieces, not once per piece)
    if (this.#inPiecesNow?.hash !== hash) this.#inPiecesNow = { hash, bytes: this.#read(hash) };
    const { bytes } = this.#inPiecesNow;
    // base64 is 4/3 of its input; gzip adds a few bytes per 16 KB block to what does not compress
    let size = Math.floor(((budget * 3) / 4) * 0.98);
    for (;;) {
      const data = encodePiece(bytes.subarray(offset, offset + size));
      if (data.length > budget) {
        size = Math.floor(size * 0.9);
        continue;
      }
      // (the last piece sent: the blob need not stay in memory for the rest of the run)
      if (offset + size >= bytes.length) this.#inPiecesNow = undefined;
      return { hash, offset, total: bytes.length, data };
    }
  }

  /** A blob's bytes from where the mirror found them, refused if the file changed since. */
  #read(hash: Hash): Buffer {
    const own = this.#ownBlobs.get(hash);
    if (own) return own;
    const file = this.#sources.get(hash);
    if (!file) throw new TransportError(`The handler asked for blob ${hash}, which this run did not ship.`, false);
    const bytes = fs.readFileSync(file);
    if (sha256(bytes) !== hash) throw new TransportError(`${file} changed while the run was shipping it; re-run Jest.`, false);
    return bytes;
  }
}

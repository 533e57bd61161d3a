/**
 * The ship stage: how a project's blobs reach the side that runs its files. Backends move requests;
 * a delivery makes sure the bytes those requests name are there (or says where to get them).
 *   in place       the embedded backend runs the checkout itself: nothing moves
 *   local store    the embedded backend with `isolate`: blobs go into a content store on this disk
 *   remote         Lambda: packs uploaded to the shared S3 store, or sent inline when a container asks
 */
import type { Hash, Manifest, ProjectPayload, RunRequest, Store } from '../protocol';
import type { Progress } from '../results/progress';
import { LocalBlobStore, NO_SHIP_STATS, type ShipStats } from './blob-store';

/** A project ready to travel: its description as sent, and where every blob it names is found. */
export interface ShippableProject {
  /** The description as it travels (with its key; a remote tree's manifest is split into parts). */
  payload: ProjectPayload;
  /** The whole manifest (the payload's may be only its parts). */
  manifest: Manifest;
  /** hash -> a local file holding those bytes. */
  sources: Map<Hash, string>;
  /** Blobs the runner made itself: the description and the manifest parts (remote trees only). */
  ownBlobs: Map<Hash, Buffer>;
}

/** Counters over a delivery's life (a watch session keeps one across runs). */
export interface DeliveryStats {
  /** Compressed bytes of blobs sent inside requests. */
  inlineBytes: number;
  /** Packs put into the shared store, first uploads and re-uploads, and their compressed bytes. */
  uploadedPacks: number;
  uploadedBytes: number;
}

export interface Delivery {
  readonly stats: DeliveryStats;
  /** The shared store the remote side reads from (and writes large answers to), if any. */
  readonly store?: Store;
  /** Makes the project's blobs reachable for the remote side; returns what it had to move. */
  ship(project: ShippableProject, progress?: Progress): Promise<ShipStats>;
  /**
   * The remote side lacks `missing` (a cold container): makes them reachable for the next attempt
   * of `request` and returns what to add to it: an inline pack of as many as fit, or the next piece
   * of one too large for a request (`partial`: how much of it the remote side holds), or nothing
   * after putting them (back) into the shared store. Absent where the remote side shares this disk.
   */
  supply?(request: RunRequest, missing: Hash[], partial?: Record<Hash, number>): Promise<Pick<RunRequest, 'pack' | 'piece'>>;
  /** Puts a blob of the runner's own into the shared store for the remote side to read; its key, or undefined without a store. */
  publish?(bytes: Buffer): Promise<Hash | undefined>;
}

export function noDeliveryStats(): DeliveryStats {
  return { inlineBytes: 0, uploadedPacks: 0, uploadedBytes: 0 };
}

/** The embedded backend in place: the files are where they run. */
export class InPlaceDelivery implements Delivery {
  readonly stats = noDeliveryStats();

  async ship(): Promise<ShipStats> {
    return { ...NO_SHIP_STATS };
  }
}

/** The embedded backend with `isolate`: blobs are copied into the content store its mirror is made from. */
export class LocalStoreDelivery implements Delivery {
  readonly stats = noDeliveryStats();
  readonly blobs: LocalBlobStore;

  constructor(storeDir: string) {
    this.blobs = new LocalBlobStore(storeDir);
  }

  async ship(project: ShippableProject): Promise<ShipStats> {
    return this.blobs.add(project.sources);
  }
}

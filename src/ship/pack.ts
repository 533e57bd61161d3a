/**
 * A pack: many content-addressed blobs travelling as one object (one S3 object, or one inline
 * field of a request), gzip-compressed. Used on both sides of the wire.
 *
 * Layout before compression: a 4-byte big-endian length, a JSON header `[[hash, size], ...]`, then
 * the blobs' bytes in header order. Hand-written because it is twenty lines; tar would add a
 * dependency and 512-byte headers per entry for nothing we need.
 *
 * A pack's key is a hash of the sorted member hashes, so both sides derive it from a manifest
 * alone, and the bytes of every member are still checked against their own hash on arrival.
 */
import zlib from 'node:zlib';
import { promisify } from 'node:util';
import { PackHeaderSchema, ProtocolError, parseAt, type Hash, type Manifest } from '../protocol';
import { sha256 } from './sha256';

const gzip = promisify(zlib.gzip);
const gunzip = promisify(zlib.gunzip);

/** Refuse to inflate a pack beyond this (a corrupt or hostile pack must not fill memory). */
export const MAX_PACK_BYTES = 1024 * 1024 * 1024;

export function packKey(hashes: Iterable<Hash>): Hash {
  const sorted = [...new Set(hashes)].sort();
  return sha256(`jrl-pack-v1\n${sorted.join('\n')}`);
}

export async function encodePack(blobs: Array<[Hash, Buffer]>, level = zlib.constants.Z_DEFAULT_COMPRESSION): Promise<Buffer> {
  return gzip(frame(blobs), { level });
}

export function encodePackSync(blobs: Array<[Hash, Buffer]>, level = zlib.constants.Z_DEFAULT_COMPRESSION): Buffer {
  return zlib.gzipSync(frame(blobs), { level });
}

function frame(blobs: Array<[Hash, Buffer]>): Buffer {
  const header = Buffer.from(JSON.stringify(blobs.map(([hash, bytes]) => [hash, bytes.length])));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(header.length);
  return Buffer.concat([length, header, ...blobs.map(([, bytes]) => bytes)]);
}

export async function decodePack(packed: Buffer, maxBytes = MAX_PACK_BYTES): Promise<Array<[Hash, Buffer]>> {
  let raw: Buffer;
  try {
    raw = await gunzip(packed, { maxOutputLength: maxBytes });
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    if (e.code === 'ERR_BUFFER_TOO_LARGE') throw new ProtocolError(`The pack inflates to more than ${maxBytes} bytes; refusing it.`);
    throw new ProtocolError(`The pack does not inflate: ${e.message}`);
  }
  return unframe(raw);
}

function unframe(raw: Buffer): Array<[Hash, Buffer]> {
  if (raw.length < 4) throw new ProtocolError('The pack is truncated (no header).');
  const headerLength = raw.readUInt32BE(0);
  if (4 + headerLength > raw.length) throw new ProtocolError('The pack is truncated (header cut off).');
  let json: unknown;
  try {
    json = JSON.parse(raw.subarray(4, 4 + headerLength).toString('utf8'));
  } catch (error) {
    throw new ProtocolError(`The pack header is not JSON: ${(error as Error).message}`);
  }
  const header = parseAt(PackHeaderSchema, json, 'pack header');
  const out: Array<[Hash, Buffer]> = [];
  let offset = 4 + headerLength;
  for (const [hash, size] of header) {
    if (offset + size > raw.length) throw new ProtocolError('The pack is truncated (blob bytes cut off).');
    out.push([hash, raw.subarray(offset, offset + size)]);
    offset += size;
  }
  return out;
}

/** One piece of a blob too large for one request (the bytes from some offset), as it travels: gzip, base64. */
export function encodePiece(bytes: Buffer): string {
  return zlib.gzipSync(bytes, { level: zlib.constants.Z_BEST_SPEED }).toString('base64');
}

export async function decodePiece(data: string, maxBytes: number): Promise<Buffer> {
  try {
    return await gunzip(Buffer.from(data, 'base64'), { maxOutputLength: maxBytes });
  } catch (error) {
    throw new ProtocolError(`A piece of a blob does not inflate to at most ${maxBytes} bytes: ${(error as Error).message}`);
  }
}

/**
 * Groups a manifest's blobs the way they travel: the files under each of `manifest.packDirs`
 * (the longest matching directory wins) form one pack; every other blob travels alone.
 * Returns pack key -> member hashes.
 */
export function packsOf(manifest: Manifest, only?: ReadonlySet<Hash>): Map<Hash, Hash[]> {
  const dirs = new Set(manifest.packDirs ?? []);
  const groups = new Map<string, Set<Hash>>();
  const singles = new Set<Hash>();
  // The deepest pack folder above each file (a package nested in another's node_modules is its own).
  const packDirOf = (file: string): string | undefined => {
    for (let at = file.lastIndexOf('/'); at > 0; at = file.lastIndexOf('/', at - 1)) {
      const dir = file.slice(0, at);
      if (dirs.has(dir)) return dir;
    }
    return undefined;
  };
  for (const file of manifest.files) {
    const dir = packDirOf(file.path);
    if (dir === undefined) {
      singles.add(file.hash);
      continue;
    }
    let group = groups.get(dir);
    if (!group) groups.set(dir, (group = new Set()));
    group.add(file.hash);
  }
  const out = new Map<Hash, Hash[]>();
  for (const members of groups.values()) {
    if (only && ![...members].some((h) => only.has(h))) continue;
    out.set(packKey(members), [...members].sort());
  }
  for (const hash of singles) {
    if (only && !only.has(hash)) continue;
    out.set(packKey([hash]), [hash]);
  }
  return out;
}

/** Each blob in a pack of its own (pack key -> [hash]). */
export function singlePacks(hashes: Iterable<Hash>): Map<Hash, Hash[]> {
  return new Map([...new Set(hashes)].map((h) => [packKey([h]), [h]]));
}

/** Content addressing: a blob's name is the sha256 of its bytes (lowercase hex). */
import crypto from 'node:crypto';

export function sha256(data: Buffer | Uint8Array | string): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

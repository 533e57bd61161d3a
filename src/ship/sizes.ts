/** Sizes as messages and summaries print them. */
const MIB = 1024 * 1024;

/** `bytes` in MB (MiB) with `digits` decimals, e.g. "12.3 MB". */
export function mb(bytes: number, digits = 1): string {
  return `${(bytes / MIB).toFixed(digits)} MB`;
}

/** `bytes` rounded up to a whole MB: for room that must be found, never understated. */
export function mbUp(bytes: number): string {
  return `${Math.ceil(bytes / MIB)} MB`;
}

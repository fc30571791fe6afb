// Where bytes stop being UTF-8, so a file reader can name the line of the first bad byte instead
// of the line it had reached (TextDecoder's fatal mode only says "not valid" for a whole chunk).
// Used by the CSV import (ingest/csv.ts) and the bulk JSONL reader (shopify/bulk-jsonl.ts).

const cont = (b: number | undefined) => b !== undefined && (b & 0xc0) === 0x80;

/**
 * Offset of the first byte of `bytes` that breaks UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF), or -1. A sequence cut off by the end of `bytes` is not an
 * error (the next chunk may complete it), and up to three continuation bytes at the start are
 * skipped (they may complete the previous chunk's last character).
 */
export function invalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < 3 && cont(bytes[i])) i++;
  const n = bytes.length;
  while (i < n) {
    const c = bytes[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let len: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (c === 0xe0) lo = 0xa0;
      else if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (c === 0xf0) lo = 0x90;
      else if (c === 0xf4) hi = 0x8f;
    } else return i;
    const second = bytes[i + 1];
    if (second === undefined) return -1;
    if (second < lo || second > hi) return i;
    for (let k = 2; k < len; k++) {
      const b = bytes[i + k];
      if (b === undefined) return -1;
      if (!cont(b)) return i;
    }
    i += len;
  }
  return -1;
}

/** Line breaks (LF) in bytes[0, end): added to the line a chunk starts on, the line of `end`. */
export function lineBreaksBefore(bytes: Uint8Array, end: number): number {
  let lines = 0;
  for (let i = 0; i < end; i++) if (bytes[i] === 0x0a) lines++;
  return lines;
}

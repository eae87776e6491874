// Entry spans: where a committed batch's entries lie in the entry file (entry-file.ts). One
// LevelDB row per batch, keyed by the batch's first index: the file offset of its first entry
// (uint64 big-endian) then each entry's length (uint32 big-endian). A batch of ~1,000 entries
// costs one put of ~4 KB instead of ~1,000 puts, and 4 bytes per entry on disk.
import { VellumError } from '../error.js';

export interface Span {
  /** Index of the span's first entry. */
  readonly start: bigint;
  /** Byte offset of that entry in the entry file. */
  readonly offset: number;
  readonly lengths: Uint32Array;
}

export const spanCount = (s: Span) => s.lengths.length;
export const spanBytes = (s: Span) => s.lengths.reduce((a, b) => a + b, 0);

/** The row value of a span of `entries` (only their lengths matter) starting at file offset `offset`. */
export function encodeSpan(offset: number, entries: readonly { readonly length: number }[]): Uint8Array {
  const out = new Uint8Array(8 + 4 * entries.length);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(offset));
  for (let i = 0; i < entries.length; i++) view.setUint32(8 + 4 * i, entries[i]!.length);
  return out;
}

/** Parses a span row; CORRUPT for a value no encodeSpan could have written. */
export function decodeSpan(start: bigint, value: Uint8Array): Span {
  if (value.length < 12 || (value.length - 8) % 4 !== 0) {
    throw new VellumError('CORRUPT', `entry span ${start}: a row of ${value.length} bytes`);
  }
  const view = new DataView(value.buffer, value.byteOffset, value.length);
  const offset = view.getBigUint64(0);
  if (offset > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new VellumError('CORRUPT', `entry span ${start}: offset ${offset} is past any file`);
  }
  const lengths = new Uint32Array((value.length - 8) / 4);
  for (let i = 0; i < lengths.length; i++) lengths[i] = view.getUint32(8 + 4 * i);
  return { start, offset: Number(offset), lengths };
}

/**
 * The file range of entries [start, end) given the spans that hold them, in order and
 * contiguous: the first span holds `start`. Returns the byte range and each entry's length;
 * stops at the last span. CORRUPT when the spans leave a gap in indexes or bytes.
 */
export function locate(
  spans: readonly Span[],
  start: bigint,
  end: bigint,
): { offset: number; length: number; lengths: number[] } {
  const lengths: number[] = [];
  let offset = -1;
  let length = 0;
  let nextIndex: bigint | undefined;
  let nextOffset = 0;
  for (const s of spans) {
    if (nextIndex !== undefined && (s.start !== nextIndex || s.offset !== nextOffset)) {
      throw new VellumError(
        'CORRUPT',
        `entry span ${s.start} at byte ${s.offset} does not follow the span before it (index ${nextIndex}, byte ${nextOffset})`,
      );
    }
    // Positions within the span as numbers: a span holds at most one batch.
    const from = start > s.start ? Number(start - s.start) : 0;
    const to = end - s.start < BigInt(s.lengths.length) ? Number(end - s.start) : s.lengths.length;
    let at = s.offset;
    for (let i = 0; i < s.lengths.length; i++) {
      const n = s.lengths[i]!;
      if (i >= from && i < to) {
        if (offset < 0) offset = at;
        lengths.push(n);
        length += n;
      }
      at += n;
    }
    nextIndex = s.start + BigInt(s.lengths.length);
    nextOffset = at;
  }
  return { offset: Math.max(offset, 0), length, lengths };
}

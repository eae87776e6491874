// A Bloom filter of leaf hashes, kept in memory in front of the dedup index. Most appends are
// fresh entries, and without it each one cost a LevelDB lookup of a key that is not there
// (~3.5 µs of CPU per entry on a 1M-entry log: a table probe per level). With it, LevelDB is
// asked only when the filter cannot rule an entry out. There are no false negatives, so
// dedup stays strong; a false positive costs one lookup.
//
// Leaf hashes are SHA-256 outputs, so their own bytes serve as the filter's hash functions.
// An entry chosen so its leaf hash lands on set bits only gains the lookup everyone paid
// before. The filter is blocked (Putze, Sanders, Singler, "Cache-, Hash- and Space-Efficient
// Bloom Filters", 2007): every bit of one hash lies in one 512-bit block, one cache line.

const BLOCK_WORDS = 16; // 512 bits
const PROBES = 7;
/** The first segment's least capacity, in entries: 1.25 MiB at 10 bits per entry. */
const MIN_CAPACITY = 1 << 20;

/** One fixed-size blocked Bloom filter: `capacity` entries at the chosen bits per entry. */
class Segment {
  readonly words: Uint32Array;
  readonly #blocks: number;
  count = 0;

  constructor(
    readonly capacity: number,
    bitsPerEntry: number,
  ) {
    this.#blocks = Math.max(1, Math.ceil((capacity * bitsPerEntry) / (BLOCK_WORDS * 32)));
    this.words = new Uint32Array(this.#blocks * BLOCK_WORDS);
  }

  /** The first word of the block for the hash at h[at …]: from its first 53 bits. */
  #block(h: Uint8Array, at: number): number {
    const hi = ((h[at]! << 24) | (h[at + 1]! << 16) | (h[at + 2]! << 8) | h[at + 3]!) >>> 0;
    const lo = ((h[at + 4]! << 13) | (h[at + 5]! << 5) | (h[at + 6]! >>> 3)) >>> 0; // 21 bits
    return ((hi * 2 ** 21 + lo) % this.#blocks) * BLOCK_WORDS;
  }

  add(h: Uint8Array, at: number): void {
    const base = this.#block(h, at);
    // Probe i is bits 0–8 of the big-endian uint16 at byte 8 + 2i: bytes the block never used.
    for (let i = 0, p = at + 8; i < PROBES; i++, p += 2) {
      const bit = ((h[p]! << 8) | h[p + 1]!) & 511;
      this.words[base + (bit >>> 5)]! |= 1 << (bit & 31);
    }
    this.count++;
  }

  mightHold(h: Uint8Array, at: number): boolean {
    const base = this.#block(h, at);
    for (let i = 0, p = at + 8; i < PROBES; i++, p += 2) {
      const bit = ((h[p]! << 8) | h[p + 1]!) & 511;
      if ((this.words[base + (bit >>> 5)]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}

/**
 * A filter that grows with the log: when its newest segment is full, a new one twice the size
 * of all entries so far is added, so the false-positive rate stays near one segment's (about
 * 1% at 10 bits per entry) times the few segments a log's growth adds.
 */
export class LeafHashFilter {
  readonly #segments: Segment[];
  readonly bitsPerEntry: number;

  /**
   * Sized for `expected` entries and room to grow by a quarter (at least `minCapacity`,
   * default 2^20) before it adds a segment.
   */
  constructor(expected: number, options: { bitsPerEntry?: number; minCapacity?: number } = {}) {
    const bits = options.bitsPerEntry ?? 10;
    if (!(Number.isInteger(bits) && bits >= 1 && bits <= 64)) {
      throw new RangeError(`a leaf hash filter needs 1 to 64 bits per entry, not ${bits}`);
    }
    this.bitsPerEntry = bits;
    const capacity = Math.max(options.minCapacity ?? MIN_CAPACITY, Math.ceil(expected * 1.25), 1);
    this.#segments = [new Segment(capacity, bits)];
  }

  /** Adds the 32-byte leaf hash at `bytes[at …]`. */
  add(bytes: Uint8Array, at = 0): void {
    let last = this.#segments[this.#segments.length - 1]!;
    if (last.count >= last.capacity) {
      last = new Segment(2 * this.entries, this.bitsPerEntry);
      this.#segments.push(last);
    }
    last.add(bytes, at);
  }

  /** False only if the leaf hash at `bytes[at …]` was never added. */
  mightHold(bytes: Uint8Array, at = 0): boolean {
    for (const s of this.#segments) if (s.mightHold(bytes, at)) return true;
    return false;
  }

  /** Leaf hashes added. */
  get entries(): number {
    let n = 0;
    for (const s of this.#segments) n += s.count;
    return n;
  }

  /** Memory the filter's bits take. */
  get bytes(): number {
    let n = 0;
    for (const s of this.#segments) n += s.words.byteLength;
    return n;
  }
}

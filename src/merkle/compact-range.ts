// The right edge of a tree [0, size): one peak per set bit of size, largest (leftmost) first.
// Appending a leaf merges equal-height peaks, so extending the tree never re-reads it.
import { bitLength } from './bits.js';
import { HASH_SIZE, type TreeHasher } from './hash.js';

/** Called for every complete node an append creates, the leaf itself (level 0) included. */
export type NodeVisitor = (level: number, index: bigint, hash: Uint8Array) => void;

export class CompactRange {
  #size: bigint;
  readonly #peaks: Uint8Array[];

  /** peaks: the complete subtrees of [0, size), largest first; one per set bit of size. */
  constructor(
    size: bigint,
    peaks: readonly Uint8Array[],
    private readonly hasher: TreeHasher,
  ) {
    let bits = 0;
    for (let s = size; s > 0n; s >>= 1n) bits += Number(s & 1n);
    if (size < 0n || peaks.length !== bits)
      throw new Error(`assertion failed: ${peaks.length} peaks for size ${size}`);
    for (const p of peaks)
      if (p.length !== HASH_SIZE) throw new Error('assertion failed: peak of wrong length');
    this.#size = size;
    this.#peaks = [...peaks];
  }

  get size(): bigint {
    return this.#size;
  }

  get peaks(): readonly Uint8Array[] {
    return this.#peaks;
  }

  /** Levels of the peaks, largest first (the set bits of size, high to low). */
  static peakLevels(size: bigint): number[] {
    const levels: number[] = [];
    for (let l = bitLength(size) - 1; l >= 0; l--) if ((size >> BigInt(l)) & 1n) levels.push(l);
    return levels;
  }

  append(leafHash: Uint8Array, visit?: NodeVisitor): void {
    const index = this.#size;
    let h = leafHash;
    let level = 0;
    visit?.(0, index, h);
    for (let s = index; (s & 1n) === 1n; s >>= 1n) {
      h = this.hasher.nodeHash(this.#peaks.pop()!, h);
      level++;
      visit?.(level, index >> BigInt(level), h);
    }
    this.#peaks.push(h);
    this.#size = index + 1n;
  }

  /** MTH(D[0:size]): the peaks folded right to left. */
  rootHash(): Uint8Array {
    if (this.#peaks.length === 0) return this.hasher.emptyRoot();
    let h = this.#peaks[this.#peaks.length - 1]!;
    for (let i = this.#peaks.length - 2; i >= 0; i--) h = this.hasher.nodeHash(this.#peaks[i]!, h);
    return h;
  }

  clone(): CompactRange {
    return new CompactRange(this.#size, this.#peaks, this.hasher);
  }
}

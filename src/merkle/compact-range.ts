// The right edge of a tree [0, size): one peak per set bit of size, largest (leftmost) first.
// Appending a leaf merges equal-height peaks, so extending the tree never re-reads it.
import { bitLength } from './bits.js';
import { HASH_SIZE, type TreeHasher } from './hash.js';

/** Called for every complete node an append creates, the leaf itself (level 0) included. */
export type NodeVisitor = (level: number, index: bigint, hash: Uint8Array) => void;

/**
 * A NodeVisitor for appendAll: the index is a number while the tree stays below 2^53 leaves
 * (every real log), a bigint past that.
 */
export type NumberNodeVisitor = (level: number, index: number | bigint, hash: Uint8Array) => void;

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

  /**
   * append() for each leaf in order. Below 2^53 leaves it counts with numbers: the bigint
   * arithmetic of append() allocated several heap numbers per leaf, ~12% of the garbage a
   * streamed append made on the server.
   */
  appendAll(leafHashes: readonly Uint8Array[], visit?: NumberNodeVisitor): void {
    if (this.#size + BigInt(leafHashes.length) > BigInt(Number.MAX_SAFE_INTEGER)) {
      for (const h of leafHashes) this.append(h, visit);
      return;
    }
    let index = Number(this.#size);
    for (const leafHash of leafHashes) {
      let h = leafHash;
      visit?.(0, index, h);
      // One merge per trailing 1 bit of the index; s is the new node's index at its level.
      let level = 0;
      for (let s = index; s % 2 === 1; ) {
        s = (s - 1) / 2;
        level++;
        h = this.hasher.nodeHash(this.#peaks.pop()!, h);
        visit?.(level, s, h);
      }
      this.#peaks.push(h);
      index++;
    }
    this.#size = BigInt(index);
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

// Inclusion proofs on the append hot path: RFC 6962 §2.1.1 PATH walked with number arithmetic
// (exact below 2^53) and no hashing. Complete subtrees are read from a node source; the only
// incomplete ones, on the right edge, are suffixes of the tree's peaks, folded once per size.
// Profiled: bigint proof plans were the largest share of receipt building before this.
import type { TreeHasher } from './hash.js';

export const MAX_SAFE_SIZE = Number.MAX_SAFE_INTEGER;

/** Complete node (level, index) as numbers, or undefined when it is not in memory. */
export type NodeSource = (level: number, index: number) => Uint8Array | undefined;

/** Largest power of two strictly below n (n ≥ 2), as a number. */
export function splitBelow(n: number): number {
  if (n <= 0x80000000) return 2 ** (31 - Math.clz32(n - 1));
  let p = 2 ** Math.floor(Math.log2(n - 1));
  while (p * 2 < n) p *= 2;
  while (p >= n) p /= 2;
  return p;
}

/** The hashes MTH(D[start:size]) for every peak boundary `start` of a tree: the right edges. */
export class RightEdges {
  readonly #byStart = new Map<number, Uint8Array>();

  /** peaks: the tree's peaks, largest first, with their levels (CompactRange order). */
  constructor(peaks: readonly Uint8Array[], levels: readonly number[], size: number, hasher: TreeHasher) {
    let start = size;
    let h: Uint8Array | undefined;
    for (let i = peaks.length - 1; i >= 0; i--) {
      start -= 2 ** levels[i]!;
      h = h === undefined ? peaks[i]! : hasher.nodeHash(peaks[i]!, h);
      this.#byStart.set(start, h);
    }
  }

  at(start: number): Uint8Array | undefined {
    return this.#byStart.get(start);
  }
}

/**
 * PATH(index, D[0:size]), leaf sibling first; undefined if a node is not in memory (the caller
 * then takes the general path). Requires index < size ≤ MAX_SAFE_SIZE.
 */
export function walkInclusion(
  index: number,
  size: number,
  node: NodeSource,
  edges: RightEdges,
): Uint8Array[] | undefined {
  const path: Uint8Array[] = [];
  let lo = 0;
  let hi = size;
  while (hi - lo > 1) {
    const k = splitBelow(hi - lo);
    let h: Uint8Array | undefined;
    if (index < lo + k) {
      // Sibling [lo+k, hi): complete when its length is a power of two, else the right edge.
      const len = hi - lo - k;
      h =
        (len & (len - 1)) === 0 && len <= 0x40000000 ? node(31 - Math.clz32(len), (lo + k) / len) : undefined;
      if (h === undefined && hi === size) h = edges.at(lo + k);
      hi = lo + k;
    } else {
      h = node(Math.round(Math.log2(k)), lo / k);
      lo += k;
    }
    if (h === undefined) return undefined;
    path.push(h);
  }
  return path.reverse();
}

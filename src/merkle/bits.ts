// bigint bit helpers for tree-shape arithmetic. Sizes and indexes are bigints at every API
// (DESIGN §8.3) because a log may outgrow 2^53 entries.

/** Number of bits needed to represent n (0 for 0). */
export function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** The largest power of two strictly less than n; n must be ≥ 2 (RFC 6962 §2.1 "k"). */
export function splitPoint(n: bigint): bigint {
  return 1n << BigInt(bitLength(n - 1n) - 1);
}

export function isPowerOfTwo(n: bigint): boolean {
  return n > 0n && (n & (n - 1n)) === 0n;
}

// Range proofs: one proof that the consecutive leaves [start, end) are in the tree of `size`,
// instead of one inclusion proof per leaf.
//
// RANGE extends RFC 6962 §2.1.1's PATH from one leaf to a run of them. In a subtree D[x:x+s]
// that the run meets, with k the largest power of two below s:
//   the run covers the whole subtree        → []  (the verifier hashes the run's leaves)
//   the run lies in the left part D[x:x+k]  → RANGE(left) : MTH(D[x+k:x+s])
//   the run lies in the right part          → RANGE(right) : MTH(D[x:x+k])
//   the run straddles x+k                   → RANGE(run ∩ left) : RANGE(run ∩ right)
// A run of one leaf never straddles, so its range proof is exactly its inclusion proof. A run
// of n leaves costs at most 2·log2(size) hashes to prove and n − 1 + that many to verify.
import { VellumError } from '../error.js';
import { splitPoint } from './bits.js';
import { bytesEqual, HASH_SIZE, type TreeHasher } from './hash.js';
import { splitBelow } from './inclusion-walk.js';

const fail = (message: string) => new VellumError('VERIFICATION_FAILED', message);

/** Top-down, the side PATH takes at each split on the way to `index` (true: right). */
function sides(index: bigint, size: bigint): boolean[] {
  const out: boolean[] = [];
  let x = 0n;
  let s = size;
  while (s > 1n) {
    const k = splitPoint(s);
    const right = index - x >= k;
    out.push(right);
    if (right) {
      x += k;
      s -= k;
    } else s = k;
  }
  return out;
}

/**
 * The range proof of [start, end) in the tree of `size`, taken from the inclusion proofs of its
 * first and last leaves (which hold every node it needs): below the split where their paths
 * part, the first leaf's left siblings and the last leaf's right siblings; above it, the shared
 * siblings.
 */
export function rangeProofFromPaths(
  start: bigint,
  end: bigint,
  size: bigint,
  firstPath: readonly Uint8Array[],
  lastPath: readonly Uint8Array[],
): Uint8Array[] {
  if (start < 0n || end <= start || end > size) {
    throw new VellumError('OUT_OF_RANGE', `range [${start}, ${end}) is not within size ${size}`);
  }
  const a = sides(start, size);
  const b = sides(end - 1n, size);
  if (firstPath.length !== a.length || lastPath.length !== b.length) {
    throw new Error('assertion failed: paths do not fit the tree size');
  }
  if (end - start === 1n) return [...firstPath];
  let split = 0;
  while (a[split] === b[split]) split++;
  const out: Uint8Array[] = [];
  // Bottom-up, as PATH lists them: step i (top-down) is path element length − 1 − i.
  for (let i = a.length - 1; i > split; i--) if (a[i]) out.push(firstPath[a.length - 1 - i]!);
  for (let i = b.length - 1; i > split; i--) if (!b[i]) out.push(lastPath[b.length - 1 - i]!);
  for (let i = split - 1; i >= 0; i--) out.push(firstPath[a.length - 1 - i]!);
  return out;
}

export interface RangeInput {
  /** Index of leafHashes[0]. */
  readonly start: bigint;
  readonly size: bigint;
  /** The run's leaf hashes, in order; at least one. */
  readonly leafHashes: readonly Uint8Array[];
  readonly proof: readonly Uint8Array[];
}

/** Nodes seen while hashing a range, by subtree (first index, size): for inclusion proofs. */
type NodeMemo = Map<string, Uint8Array>;
const key = (x: bigint, s: bigint) => `${x}/${s}`;

/** The root a range proof leads to; throws VERIFICATION_FAILED if it is malformed. */
export function rootFromRangeProof(input: RangeInput, hasher: TreeHasher, memo?: NodeMemo): Uint8Array {
  const { start, size, leafHashes, proof } = input;
  const end = start + BigInt(leafHashes.length);
  if (leafHashes.length === 0) throw fail('a range proof needs at least one leaf');
  if (start < 0n || end > size) throw fail(`range [${start}, ${end}) is not within size ${size}`);
  for (const list of [leafHashes, proof]) {
    for (const h of list)
      if (h.length !== HASH_SIZE) throw fail(`a hash is ${h.length} bytes, want ${HASH_SIZE}`);
  }
  let next = 0;
  const take = (x: bigint, s: bigint) => {
    const h = proof[next++];
    if (h === undefined) throw fail('range proof is too short');
    memo?.set(key(x, s), h);
    return h;
  };
  // MTH of a subtree the run covers, from its leaves (RFC 6962 §2.1). Numbers, not bigints:
  // offsets within the run, which is an array.
  const covered = (at: number, s: number): Uint8Array => {
    let h: Uint8Array;
    if (s === 1) h = leafHashes[at]!;
    else {
      const k = splitBelow(s);
      h = hasher.nodeHash(covered(at, k), covered(at + k, s - k));
    }
    memo?.set(key(start + BigInt(at), BigInt(s)), h);
    return h;
  };
  // MTH of D[x:x+s], which meets the run [lo, hi); consumes the proof in RANGE's order.
  const meet = (x: bigint, s: bigint, lo: bigint, hi: bigint): Uint8Array => {
    if (lo === x && hi === x + s) return covered(Number(x - start), Number(s));
    const k = splitPoint(s);
    let h: Uint8Array;
    if (hi <= x + k) {
      const left = meet(x, k, lo, hi);
      h = hasher.nodeHash(left, take(x + k, s - k));
    } else if (lo >= x + k) {
      const right = meet(x + k, s - k, lo, hi);
      h = hasher.nodeHash(take(x, k), right);
    } else {
      const left = meet(x, k, lo, x + k);
      h = hasher.nodeHash(left, meet(x + k, s - k, x + k, hi));
    }
    memo?.set(key(x, s), h);
    return h;
  };
  const root = meet(0n, size, start, end);
  if (next !== proof.length) throw fail('range proof is too long');
  return root;
}

/** A range proof checked against a root, able to hand out each leaf's inclusion proof. */
export interface VerifiedRange {
  /** The RFC 6962 inclusion proof of `index` (within the range) in the tree of `size`. */
  inclusionProof(index: bigint): Uint8Array[];
}

/**
 * Checks that the run is in the tree of `size` with `rootHash`; throws VERIFICATION_FAILED if
 * not. With keepNodes, the nodes hashed along the way are kept, so every leaf's inclusion proof
 * can be given without hashing again.
 */
export function verifyRange(
  input: RangeInput & { readonly rootHash: Uint8Array },
  hasher: TreeHasher,
  options: { keepNodes?: boolean } = {},
): VerifiedRange {
  const memo: NodeMemo | undefined = options.keepNodes ? new Map() : undefined;
  const root = rootFromRangeProof(input, hasher, memo);
  if (!bytesEqual(root, input.rootHash)) {
    throw fail(`range [${input.start}, +${input.leafHashes.length}) does not lead to the root hash`);
  }
  const end = input.start + BigInt(input.leafHashes.length);
  return {
    inclusionProof(index) {
      if (memo === undefined) throw new Error('assertion failed: verifyRange without keepNodes');
      if (index < input.start || index >= end) {
        throw new VellumError('OUT_OF_RANGE', `index ${index} is not in [${input.start}, ${end})`);
      }
      // Every sibling on the path either meets the run (hashed) or is one of the proof's nodes.
      const out: Uint8Array[] = [];
      let x = 0n;
      let s = input.size;
      while (s > 1n) {
        const k = splitPoint(s);
        const right = index - x >= k;
        out.push(memo.get(right ? key(x, k) : key(x + k, s - k))!);
        if (right) {
          x += k;
          s -= k;
        } else s = k;
      }
      return out.reverse();
    },
  };
}

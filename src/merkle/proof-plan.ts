// Which tree nodes a proof needs (RFC 6962 §2.1.1 PATH, §2.1.2 PROOF), kept apart from
// fetching and hashing: list the nodes, read them in one call, then assemble (DESIGN §8.1).
import { splitPoint } from './bits.js';
import type { TreeHasher } from './hash.js';

/** A complete subtree: the 2^level leaves [index·2^level, (index+1)·2^level). */
export interface NodeId {
  readonly level: number;
  readonly index: bigint;
}

/**
 * One proof element per item: the hash MTH(D[start:end]). A subtree on the right edge of
 * the tree is not complete, so its hash is rebuilt from the complete subtrees (peaks) that
 * cover it; `nodes` lists them left to right.
 */
export type ProofPlan = readonly (readonly NodeId[])[];

/** The complete subtrees covering [start, end), left to right, largest aligned first. */
export function rangeNodes(start: bigint, end: bigint): NodeId[] {
  const nodes: NodeId[] = [];
  // Fast path in doubles (exact below 2^53): bigint arithmetic dominated receipt building.
  if (end <= 9007199254740991n) {
    let s = Number(start);
    const e = Number(end);
    while (s < e) {
      let size = 1;
      let level = 0;
      while (s % (size * 2) === 0 && s + size * 2 <= e) {
        size *= 2;
        level++;
      }
      nodes.push({ level, index: BigInt(s / size) });
      s += size;
    }
    return nodes;
  }
  while (start < end) {
    let level = 0;
    // Grow while start stays aligned and the subtree still fits.
    while ((start & ((1n << BigInt(level + 1)) - 1n)) === 0n && start + (1n << BigInt(level + 1)) <= end) {
      level++;
    }
    nodes.push({ level, index: start >> BigInt(level) });
    start += 1n << BigInt(level);
  }
  return nodes;
}

/** PATH(index, D[0:size]) as ranges, ordered leaf-sibling first. Requires index < size. */
export function inclusionPlan(index: bigint, size: bigint): ProofPlan {
  if (index < 0n || index >= size) throw new RangeError(`index ${index} not below size ${size}`);
  const plan: NodeId[][] = [];
  let lo = 0n;
  let hi = size;
  while (hi - lo > 1n) {
    const k = splitPoint(hi - lo);
    if (index < lo + k) {
      plan.push(rangeNodes(lo + k, hi));
      hi = lo + k;
    } else {
      plan.push(rangeNodes(lo, lo + k));
      lo += k;
    }
  }
  return plan.reverse();
}

/** PROOF(size1, D[0:size2]) as ranges (RFC 6962 §2.1.2 SUBPROOF). Requires 0 < size1 ≤ size2. */
export function consistencyPlan(size1: bigint, size2: bigint): ProofPlan {
  if (size1 <= 0n || size1 > size2) throw new RangeError(`need 0 < size1 ≤ size2, got ${size1}, ${size2}`);
  const plan: NodeId[][] = [];
  let lo = 0n;
  let hi = size2;
  let whole = true; // SUBPROOF's b: the subtree is the whole old tree, whose root the verifier knows
  for (;;) {
    if (size1 === hi) {
      if (!whole) plan.push(rangeNodes(lo, hi));
      break;
    }
    const k = splitPoint(hi - lo);
    if (size1 - lo <= k) {
      plan.push(rangeNodes(lo + k, hi));
      hi = lo + k;
    } else {
      plan.push(rangeNodes(lo, lo + k));
      lo += k;
      whole = false;
    }
  }
  return plan.reverse();
}

/** Every node the plan reads, in order; `assembleProof` takes their hashes in this order. */
export function planNodes(plan: ProofPlan): NodeId[] {
  return plan.flat();
}

/** Folds each element's peaks right to left (the MTH split rule) into the proof hashes. */
export function assembleProof(
  plan: ProofPlan,
  hashes: readonly Uint8Array[],
  hasher: TreeHasher,
): Uint8Array[] {
  const proof: Uint8Array[] = [];
  let at = 0;
  for (const element of plan) {
    const start = at;
    at += element.length;
    let h = hashes[at - 1];
    if (h === undefined) throw new Error('assertion failed: fewer hashes than the plan needs');
    for (let i = at - 2; i >= start; i--) h = hasher.nodeHash(hashes[i]!, h);
    proof.push(h);
  }
  if (at !== hashes.length) throw new Error('assertion failed: more hashes than the plan needs');
  return proof;
}

// Proof verification, RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency).
import { VellumError } from '../error.js';
import { isPowerOfTwo } from './bits.js';
import { bytesEqual, HASH_SIZE, type TreeHasher } from './hash.js';

const fail = (message: string, evidence?: Record<string, unknown>) =>
  new VellumError('VERIFICATION_FAILED', message, evidence);

function checkHashes(what: string, hashes: readonly Uint8Array[]): void {
  for (const [i, h] of hashes.entries()) {
    if (h.length !== HASH_SIZE) throw fail(`${what}[${i}] is ${h.length} bytes, want ${HASH_SIZE}`);
  }
}

export interface InclusionInput {
  index: bigint;
  size: bigint;
  leafHash: Uint8Array;
  proof: readonly Uint8Array[];
}

/** The root an inclusion proof leads to (RFC 9162 §2.1.3.2 steps 1–3); throws if malformed. */
export function rootFromInclusionProof(input: InclusionInput, hasher: TreeHasher): Uint8Array {
  const { index, size, leafHash, proof } = input;
  if (index < 0n || index >= size) throw fail(`index ${index} is not below size ${size}`);
  checkHashes('leafHash', [leafHash]);
  checkHashes('proof', proof);
  if (size <= 9007199254740991n)
    return rootFromInclusionNumbers(Number(index), Number(size), leafHash, proof, hasher);
  let fn = index;
  let sn = size - 1n;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0n) throw fail('inclusion proof is too long');
    if ((fn & 1n) === 1n || fn === sn) {
      r = hasher.nodeHash(p, r);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = hasher.nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw fail('inclusion proof is too short');
  return r;
}

/** The same algorithm in doubles (exact below 2^53): bigint steps dominated client verification. */
function rootFromInclusionNumbers(
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  hasher: TreeHasher,
): Uint8Array {
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0) throw fail('inclusion proof is too long');
    if (fn % 2 === 1 || fn === sn) {
      r = hasher.nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      r = hasher.nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw fail('inclusion proof is too short');
  return r;
}

/** Throws VERIFICATION_FAILED unless the proof shows leafHash at index in the tree (size, rootHash). */
export function verifyInclusion(input: InclusionInput & { rootHash: Uint8Array }, hasher: TreeHasher): void {
  checkHashes('rootHash', [input.rootHash]);
  const got = rootFromInclusionProof(input, hasher);
  if (!bytesEqual(got, input.rootHash))
    throw fail(`inclusion proof for index ${input.index} leads to another root`);
}

export interface ConsistencyInput {
  size1: bigint;
  size2: bigint;
  root1: Uint8Array;
  root2: Uint8Array;
  proof: readonly Uint8Array[];
}

/**
 * Throws VERIFICATION_FAILED unless the tree (size1, root1) is a prefix of (size2, root2).
 * Edge cases (spec digest §1.6): size1 = size2 needs an empty proof and equal roots;
 * size1 = 0 needs an empty proof and root1 = the empty root (every tree extends it).
 */
export function verifyConsistency(input: ConsistencyInput, hasher: TreeHasher): void {
  const { size1, size2, root1, root2, proof } = input;
  checkHashes('root', [root1, root2]);
  checkHashes('proof', proof);
  if (size1 < 0n || size1 > size2) throw fail(`size1 ${size1} is not in [0, size2 ${size2}]`);
  if (size1 === size2) {
    if (proof.length !== 0) throw fail('consistency proof between equal sizes must be empty');
    if (!bytesEqual(root1, root2)) throw fail(`two different roots for size ${size1}`);
    return;
  }
  if (size1 === 0n) {
    if (proof.length !== 0) throw fail('consistency proof from size 0 must be empty');
    if (!bytesEqual(root1, hasher.emptyRoot())) throw fail('root1 of size 0 is not the empty root');
    return;
  }
  if (proof.length === 0) throw fail('consistency proof is empty');
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : [...proof];
  let fn = size1 - 1n;
  let sn = size2 - 1n;
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0n) throw fail('consistency proof is too long');
    if ((fn & 1n) === 1n || fn === sn) {
      fr = hasher.nodeHash(c, fr);
      sr = hasher.nodeHash(c, sr);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      sr = hasher.nodeHash(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw fail('consistency proof is too short');
  if (!bytesEqual(fr, root1)) throw fail(`consistency proof does not lead to root1 of size ${size1}`);
  if (!bytesEqual(sr, root2)) throw fail(`consistency proof does not lead to root2 of size ${size2}`);
}

// A spec-literal reference of RFC 6962 §2.1 (recursive MTH, PATH, PROOF) to test the real
// code against. Deliberately slow and obvious.
import { sha256 } from '@noble/hashes/sha2.js';

const cat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

export const naiveLeafHash = (d: Uint8Array) => sha256(cat(new Uint8Array([0]), d));
export const naiveNodeHash = (l: Uint8Array, r: Uint8Array) => sha256(cat(new Uint8Array([1]), l, r));

function k(n: number): number {
  let p = 1;
  while (p * 2 < n) p *= 2;
  return p;
}

/** MTH over leaf hashes. */
export function naiveRoot(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return sha256(new Uint8Array(0));
  if (leaves.length === 1) return leaves[0]!;
  const s = k(leaves.length);
  return naiveNodeHash(naiveRoot(leaves.slice(0, s)), naiveRoot(leaves.slice(s)));
}

export function naivePath(m: number, leaves: Uint8Array[]): Uint8Array[] {
  if (leaves.length <= 1) return [];
  const s = k(leaves.length);
  return m < s
    ? [...naivePath(m, leaves.slice(0, s)), naiveRoot(leaves.slice(s))]
    : [...naivePath(m - s, leaves.slice(s)), naiveRoot(leaves.slice(0, s))];
}

function subproof(m: number, leaves: Uint8Array[], b: boolean): Uint8Array[] {
  const n = leaves.length;
  if (m === n) return b ? [] : [naiveRoot(leaves)];
  const s = k(n);
  return m <= s
    ? [...subproof(m, leaves.slice(0, s), b), naiveRoot(leaves.slice(s))]
    : [...subproof(m - s, leaves.slice(s), false), naiveRoot(leaves.slice(0, s))];
}

export const naiveConsistency = (m: number, leaves: Uint8Array[]) => subproof(m, leaves, true);

export function leavesFor(n: number, salt = 0): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => naiveLeafHash(new TextEncoder().encode(`e${salt}-${i}`)));
}

// Range proofs against a spec-literal RANGE, the naive PATH and root, and every alteration.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  defaultHasher as H,
  rangeProofFromPaths,
  rootFromRangeProof,
  verifyRange,
} from '../../src/merkle/index.js';
import { leavesFor, naivePath, naiveRoot } from '../helpers/naive.js';

const MAX = 160;
const leaves = leavesFor(MAX);

function k(n: number): number {
  let p = 1;
  while (p * 2 < n) p *= 2;
  return p;
}

/** RANGE as the module comment defines it, over a slice of leaves, run [lo, hi) within it. */
function naiveRange(lo: number, hi: number, tree: Uint8Array[]): Uint8Array[] {
  const n = tree.length;
  if (lo === 0 && hi === n) return [];
  const s = k(n);
  if (hi <= s) return [...naiveRange(lo, hi, tree.slice(0, s)), naiveRoot(tree.slice(s))];
  if (lo >= s) return [...naiveRange(lo - s, hi - s, tree.slice(s)), naiveRoot(tree.slice(0, s))];
  return [...naiveRange(lo, s, tree.slice(0, s)), ...naiveRange(0, hi - s, tree.slice(s))];
}

const run = fc
  .integer({ min: 1, max: MAX })
  .chain((size) =>
    fc
      .tuple(fc.nat(size - 1), fc.nat(size - 1))
      .map(([a, b]) => ({ size, start: Math.min(a, b), end: Math.max(a, b) + 1 })),
  );

function proofOf(start: number, end: number, size: number): Uint8Array[] {
  const tree = leaves.slice(0, size);
  return rangeProofFromPaths(
    BigInt(start),
    BigInt(end),
    BigInt(size),
    naivePath(start, tree),
    naivePath(end - 1, tree),
  );
}

const input = (start: number, end: number, size: number, proof = proofOf(start, end, size)) => ({
  start: BigInt(start),
  size: BigInt(size),
  leafHashes: leaves.slice(start, end),
  proof,
  rootHash: naiveRoot(leaves.slice(0, size)),
});

function flip(h: Uint8Array, bit: number): Uint8Array {
  const out = h.slice();
  out[bit >> 3]! ^= 1 << (bit & 7);
  return out;
}

describe('range proofs', () => {
  it('built from the end paths equal the spec-literal RANGE and lead to the root', () => {
    fc.assert(
      fc.property(run, ({ size, start, end }) => {
        const proof = proofOf(start, end, size);
        expect(proof).toEqual(naiveRange(start, end, leaves.slice(0, size)));
        expect(proof.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(size)));
        expect(rootFromRangeProof(input(start, end, size), H)).toEqual(naiveRoot(leaves.slice(0, size)));
      }),
      { numRuns: 500 },
    );
  });

  it('of one leaf is its inclusion proof', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: MAX }).chain((size) => fc.tuple(fc.constant(size), fc.nat(size - 1))),
        ([size, i]) => {
          expect(proofOf(i, i + 1, size)).toEqual(naivePath(i, leaves.slice(0, size)));
        },
      ),
    );
  });

  it('once verified, give every leaf of the run its inclusion proof', () => {
    fc.assert(
      fc.property(run, ({ size, start, end }) => {
        const v = verifyRange(input(start, end, size), H, { keepNodes: true });
        for (let i = start; i < end; i++) {
          expect(v.inclusionProof(BigInt(i))).toEqual(naivePath(i, leaves.slice(0, size)));
        }
        expect(() => v.inclusionProof(BigInt(end))).toThrow(/not in/);
      }),
      { numRuns: 200 },
    );
  });

  it('refuse every single-bit change of a proof hash or leaf hash', () => {
    for (const [start, end, size] of [
      [0, 5, 5],
      [3, 9, 13],
      [17, 64, 100],
      [63, 65, 128],
      [99, 100, 100],
    ] as const) {
      const good = input(start, end, size);
      expect(() => verifyRange(good, H)).not.toThrow();
      for (let e = 0; e < good.proof.length; e++) {
        for (let bit = 0; bit < 256; bit++) {
          const proof = good.proof.slice();
          proof[e] = flip(proof[e]!, bit);
          expect(() => verifyRange({ ...good, proof }, H)).toThrow(/root hash/);
        }
      }
      for (let l = 0; l < good.leafHashes.length; l += 7) {
        for (let bit = 0; bit < 256; bit++) {
          const leafHashes = good.leafHashes.slice();
          leafHashes[l] = flip(leafHashes[l]!, bit);
          expect(() => verifyRange({ ...good, leafHashes }, H)).toThrow(/root hash/);
        }
      }
    }
  });

  // The size is not checked here: as with RFC 6962 inclusion proofs, two tree sizes can share a
  // proof's shape, and the size is bound by the signed checkpoint the root hash comes from.
  it('refuse a moved run, a missing, extra or short hash', () => {
    fc.assert(
      fc.property(run, fc.integer({ min: -3, max: 3 }), ({ size, start, end }, delta) => {
        const good = input(start, end, size);
        const moved = { ...good, start: good.start + BigInt(delta) };
        if (delta !== 0) expect(() => verifyRange(moved, H)).toThrow();
        expect(() => verifyRange({ ...good, proof: [...good.proof, leaves[0]!] }, H)).toThrow(/too long/);
        if (good.proof.length > 0) {
          expect(() => verifyRange({ ...good, proof: good.proof.slice(1) }, H)).toThrow();
          const short = good.proof.slice();
          short[0] = short[0]!.subarray(1);
          expect(() => verifyRange({ ...good, proof: short }, H)).toThrow(/bytes/);
        }
        expect(() => verifyRange({ ...good, leafHashes: [] }, H)).toThrow(/at least one/);
      }),
      { numRuns: 300 },
    );
  });
});

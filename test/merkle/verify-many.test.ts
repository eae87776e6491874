// InclusionVerifier must give verifyInclusion's verdict on every proof, whatever it verified
// before (its memory only ever saves hashing), and hash each node of a batch about once.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  defaultHasher as H,
  InclusionVerifier,
  type TreeHasher,
  verifyInclusion,
} from '../../src/merkle/index.js';
import { leavesFor, naivePath, naiveRoot } from '../helpers/naive.js';

const MAX = 200;
const leaves = leavesFor(MAX);

type Change =
  | { kind: 'none' }
  | { kind: 'flip'; element: number; bit: number }
  | { kind: 'leaf'; bit: number }
  | { kind: 'index'; delta: number }
  | { kind: 'drop' }
  | { kind: 'extra' };

const change: fc.Arbitrary<Change> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: 'none' as const }) },
  fc.record({ kind: fc.constant('flip' as const), element: fc.nat(20), bit: fc.nat(255) }),
  fc.record({ kind: fc.constant('leaf' as const), bit: fc.nat(255) }),
  fc.record({ kind: fc.constant('index' as const), delta: fc.integer({ min: -3, max: 3 }) }),
  fc.constant({ kind: 'drop' as const }),
  fc.constant({ kind: 'extra' as const }),
);

function flip(h: Uint8Array, bit: number): Uint8Array {
  const out = h.slice();
  out[bit >> 3]! ^= 1 << (bit & 7);
  return out;
}

function applyChange(index: number, size: number, c: Change) {
  const proof = naivePath(index, leaves.slice(0, size));
  let leafHash = leaves[index]!;
  let i = BigInt(index);
  if (c.kind === 'flip' && proof.length > 0) {
    const e = c.element % proof.length;
    proof[e] = flip(proof[e]!, c.bit);
  }
  if (c.kind === 'leaf') leafHash = flip(leafHash, c.bit);
  if (c.kind === 'index') i += BigInt(c.delta);
  if (c.kind === 'drop') proof.pop();
  if (c.kind === 'extra') proof.push(leaves[0]!);
  return { index: i, leafHash, proof };
}

const verdict = (f: () => void) => {
  try {
    f();
    return 'ok';
  } catch (e) {
    return (e as { code?: string }).code ?? 'other';
  }
};

function counting(): { hasher: TreeHasher; count: () => number } {
  let n = 0;
  return {
    hasher: {
      ...H,
      nodeHash: (l, r) => {
        n++;
        return H.nodeHash(l, r);
      },
    },
    count: () => n,
  };
}

describe('InclusionVerifier', () => {
  it('agrees with verifyInclusion on every proof, valid or altered, in any order', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: MAX })
          .chain((size) =>
            fc.tuple(fc.constant(size), fc.array(fc.tuple(fc.nat(size - 1), change), { maxLength: 60 })),
          ),
        ([size, steps]) => {
          const rootHash = naiveRoot(leaves.slice(0, size));
          const v = new InclusionVerifier(BigInt(size), rootHash, H);
          for (const [index, c] of steps) {
            const input = applyChange(index, size, c);
            const alone = verdict(() => verifyInclusion({ ...input, size: BigInt(size), rootHash }, H));
            expect(verdict(() => v.verify(input))).toBe(alone);
            if (c.kind === 'none') expect(alone).toBe('ok');
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('with every node already known, rejects every single-bit change of a proof or leaf hash', () => {
    for (const size of [1, 2, 7, 8, 13, 64, 100]) {
      const rootHash = naiveRoot(leaves.slice(0, size));
      const v = new InclusionVerifier(BigInt(size), rootHash, H);
      for (let i = 0; i < size; i++)
        v.verify({ index: BigInt(i), leafHash: leaves[i]!, proof: naivePath(i, leaves.slice(0, size)) });
      for (const i of [0, size >> 1, size - 1]) {
        const proof = naivePath(i, leaves.slice(0, size));
        for (let e = 0; e < proof.length; e++) {
          for (let bit = 0; bit < 256; bit++) {
            const bad = proof.slice();
            bad[e] = flip(proof[e]!, bit);
            expect(() => v.verify({ index: BigInt(i), leafHash: leaves[i]!, proof: bad })).toThrow(
              /another root/,
            );
          }
        }
        for (let bit = 0; bit < 256; bit++) {
          expect(() => v.verify({ index: BigInt(i), leafHash: flip(leaves[i]!, bit), proof })).toThrow();
        }
      }
    }
  });

  it('hashes each node of a run of consecutive receipts about once', () => {
    const size = MAX;
    const { hasher, count } = counting();
    const v = new InclusionVerifier(BigInt(size), naiveRoot(leaves.slice(0, size)), hasher);
    for (let i = 0; i < size; i++)
      v.verify({ index: BigInt(i), leafHash: leaves[i]!, proof: naivePath(i, leaves.slice(0, size)) });
    // A tree of n leaves has n − 1 interior nodes; each proof alone would cost ~log2(n) (8 here).
    expect(count()).toBeLessThanOrEqual(size);
  });

  it('refuses a root hash of the wrong length', () => {
    expect(() => new InclusionVerifier(4n, new Uint8Array(31), H)).toThrow(/rootHash/);
  });
});

// fast-check properties against the naive recursive reference (test/helpers/naive.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assembleProof,
  CompactRange,
  consistencyPlan,
  defaultHasher as H,
  inclusionPlan,
  type NodeId,
  planNodes,
  RightEdges,
  rangeNodes,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
  walkInclusion,
} from '../../src/merkle/index.js';
import { leavesFor, naiveConsistency, naivePath, naiveRoot } from '../helpers/naive.js';

const MAX = 300;
const leaves = leavesFor(MAX);
const node = (n: NodeId) =>
  naiveRoot(leaves.slice(Number(n.index) << n.level, (Number(n.index) + 1) << n.level));
const prove = (plan: ReturnType<typeof inclusionPlan>) => assembleProof(plan, planNodes(plan).map(node), H);

const sizeAndIndex = fc
  .integer({ min: 1, max: MAX })
  .chain((size) => fc.tuple(fc.constant(size), fc.nat(size - 1)));
const sizePair = fc
  .integer({ min: 1, max: MAX })
  .chain((size2) => fc.tuple(fc.integer({ min: 1, max: size2 }), fc.constant(size2)));

describe('merkle properties vs the naive reference', () => {
  it('compact range root equals MTH for every size', () => {
    const range = new CompactRange(0n, [], H);
    for (let n = 0; n <= MAX; n++) {
      expect(range.rootHash()).toEqual(naiveRoot(leaves.slice(0, n)));
      if (n < MAX) range.append(leaves[n]!);
    }
  });

  it('compact range restored from its peaks continues identically', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX - 1 }), fc.integer({ min: 0, max: 50 }), (split, more) => {
        const a = new CompactRange(0n, [], H);
        for (const l of leaves.slice(0, split)) a.append(l);
        const b = new CompactRange(a.size, a.peaks, H);
        for (const l of leaves.slice(split, Math.min(MAX, split + more))) b.append(l);
        expect(b.rootHash()).toEqual(naiveRoot(leaves.slice(0, Math.min(MAX, split + more))));
      }),
    );
  });

  it('compact range visits exactly the complete nodes, each once', () => {
    const seen = new Map<string, Uint8Array>();
    const range = new CompactRange(0n, [], H);
    for (const l of leaves.slice(0, 100))
      range.append(l, (level, index, h) => seen.set(`${level}/${index}`, h));
    let expected = 0;
    for (let level = 0; 1 << level <= 100; level++) expected += Math.floor(100 / (1 << level));
    expect(seen.size).toBe(expected);
    for (const [key, h] of seen) {
      const [level, index] = key.split('/').map(Number);
      expect(h).toEqual(node({ level: level!, index: BigInt(index!) }));
    }
  });

  it('appendAll equals append leaf by leaf: the same nodes visited, in order, and the same range', () => {
    const visits = (level: number, index: number | bigint, h: Uint8Array) =>
      `${level}/${BigInt(index)}/${Buffer.from(h).toString('hex')}`;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: MAX - 1 }),
        fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 8 }),
        (split, chunks) => {
          const one = new CompactRange(0n, [], H);
          const all = new CompactRange(0n, [], H);
          for (const l of leaves.slice(0, split)) one.append(l);
          all.appendAll(leaves.slice(0, split));
          let at = split;
          for (const c of chunks) {
            const part = leaves.slice(at, Math.min(MAX, at + c));
            at += part.length;
            const a: string[] = [];
            const b: string[] = [];
            for (const l of part) one.append(l, (lv, i, h) => a.push(visits(lv, i, h)));
            all.appendAll(part, (lv, i, h) => {
              expect(typeof i).toBe('number');
              b.push(visits(lv, i, h));
            });
            expect(b).toEqual(a);
            expect(all.size).toBe(one.size);
            expect(all.peaks).toEqual(one.peaks);
          }
          expect(all.rootHash()).toEqual(naiveRoot(leaves.slice(0, at)));
        },
      ),
    );
  });

  it('appendAll across 2^53 leaves counts in bigints, as append does', () => {
    // A tree of 2^53 − 3 leaves: 52 peaks (every bit but bit 1); their values do not matter.
    const size = 2n ** 53n - 3n;
    const peaks = CompactRange.peakLevels(size).map((l) => H.leafHash(new Uint8Array([l])));
    const one = new CompactRange(size, peaks, H);
    const all = new CompactRange(size, peaks, H);
    const a: string[] = [];
    const b: string[] = [];
    for (const l of leaves.slice(0, 6)) one.append(l, (lv, i) => a.push(`${lv}/${i}`));
    all.appendAll(leaves.slice(0, 6), (lv, i) => {
      expect(typeof i).toBe('bigint');
      b.push(`${lv}/${i}`);
    });
    expect(b).toEqual(a);
    expect(all.size).toBe(size + 6n);
    expect(all.rootHash()).toEqual(one.rootHash());
  });

  it('rangeNodes tiles [start, end) with aligned complete subtrees', () => {
    fc.assert(
      fc.property(fc.nat(1000), fc.nat(1000), (a, b) => {
        const [start, end] = a <= b ? [a, b] : [b, a];
        let at = BigInt(start);
        for (const n of rangeNodes(BigInt(start), BigInt(end))) {
          expect(n.index << BigInt(n.level)).toBe(at);
          at += 1n << BigInt(n.level);
        }
        expect(at).toBe(BigInt(end));
      }),
    );
  });

  it('inclusion proofs equal PATH(m, D[n]) and verify', () => {
    fc.assert(
      fc.property(sizeAndIndex, ([size, index]) => {
        const proof = prove(inclusionPlan(BigInt(index), BigInt(size)));
        expect(proof).toEqual(naivePath(index, leaves.slice(0, size)));
        const rootHash = naiveRoot(leaves.slice(0, size));
        verifyInclusion(
          { index: BigInt(index), size: BigInt(size), leafHash: leaves[index]!, proof, rootHash },
          H,
        );
      }),
      { numRuns: 500 },
    );
  });

  it('consistency proofs equal PROOF(m, D[n]) and verify', () => {
    fc.assert(
      fc.property(sizePair, ([size1, size2]) => {
        const plan = consistencyPlan(BigInt(size1), BigInt(size2));
        const proof = assembleProof(plan, planNodes(plan).map(node), H);
        expect(proof).toEqual(naiveConsistency(size1, leaves.slice(0, size2)));
        verifyConsistency(
          {
            size1: BigInt(size1),
            size2: BigInt(size2),
            root1: naiveRoot(leaves.slice(0, size1)),
            root2: naiveRoot(leaves.slice(0, size2)),
            proof,
          },
          H,
        );
      }),
      { numRuns: 500 },
    );
  });

  it('verifies in bigint arithmetic beyond 2^53: a 2^60-leaf subtree on the left, m leaves after it', () => {
    // MTH(D[0:2^60+m]) = NH(X, MTH(right part)) for X the left subtree's root (any 32 bytes here).
    const X = leaves[299]!;
    const big = 1n << 60n;
    fc.assert(
      fc.property(sizeAndIndex, ([m, j]) => {
        const right = leaves.slice(0, m);
        const rootHash = H.nodeHash(X, naiveRoot(right));
        const proof = [...naivePath(j, right), X];
        const input = { index: big + BigInt(j), size: big + BigInt(m), leafHash: right[j]!, proof, rootHash };
        verifyInclusion(input, H);
        expect(() => verifyInclusion({ ...input, index: input.index - 1n }, H)).toThrow();
        expect(() => verifyInclusion({ ...input, proof: proof.slice(0, -1) }, H)).toThrow();
      }),
      { numRuns: 200 },
    );
  });

  it('an inclusion proof never verifies for another index or leaf', () => {
    fc.assert(
      fc.property(sizeAndIndex, fc.nat(MAX - 1), ([size, index], other) => {
        fc.pre(other !== index);
        const proof = prove(inclusionPlan(BigInt(index), BigInt(size)));
        const rootHash = naiveRoot(leaves.slice(0, size));
        expect(() =>
          verifyInclusion(
            { index: BigInt(index), size: BigInt(size), leafHash: leaves[other]!, proof, rootHash },
            H,
          ),
        ).toThrow();
        if (other < size) {
          const input = {
            index: BigInt(other),
            size: BigInt(size),
            leafHash: leaves[index]!,
            proof,
            rootHash,
          };
          expect(() => verifyInclusion(input, H)).toThrow();
        }
      }),
    );
  });

  it('walkInclusion equals PATH(m, D[n]), or gives up when a node is not in memory', () => {
    fc.assert(
      fc.property(sizeAndIndex, fc.integer({ min: 0, max: 3 }), ([size, index], missingEvery) => {
        const range = new CompactRange(0n, [], H);
        for (const l of leaves.slice(0, size)) range.append(l);
        const edges = new RightEdges(range.peaks, CompactRange.peakLevels(BigInt(size)), size, H);
        let asked = 0;
        const source = (level: number, i: number) => {
          asked++;
          if (missingEvery > 0 && asked % (missingEvery + 2) === 0) return undefined;
          if ((i + 1) * 2 ** level > size) return undefined; // only complete nodes exist
          return node({ level, index: BigInt(i) });
        };
        const got = walkInclusion(index, size, source, edges);
        if (got !== undefined) expect(got).toEqual(naivePath(index, leaves.slice(0, size)));
        if (missingEvery === 0) expect(got).toBeDefined();
      }),
      { numRuns: 500 },
    );
  });

  it('a consistency proof never verifies for other sizes', () => {
    fc.assert(
      fc.property(sizePair, fc.integer({ min: 1, max: MAX }), ([size1, size2], other) => {
        fc.pre(other !== size1 && other <= size2);
        const proof = prove(consistencyPlan(BigInt(size1), BigInt(size2)));
        const input = {
          size1: BigInt(other),
          size2: BigInt(size2),
          root1: naiveRoot(leaves.slice(0, size1)),
          root2: naiveRoot(leaves.slice(0, size2)),
          proof,
        };
        expect(() => verifyConsistency(input, H)).toThrow();
      }),
    );
  });

  it('rejects malformed input with VERIFICATION_FAILED, never a crash', () => {
    const leafHash = leaves[0]!;
    const root = naiveRoot(leaves.slice(0, 2));
    const cases = [
      () => rootFromInclusionProof({ index: 2n, size: 2n, leafHash, proof: [leaves[1]!] }, H),
      () => rootFromInclusionProof({ index: -1n, size: 2n, leafHash, proof: [leaves[1]!] }, H),
      () => rootFromInclusionProof({ index: 0n, size: 2n, leafHash, proof: [new Uint8Array(31)] }, H),
      () =>
        rootFromInclusionProof({ index: 0n, size: 2n, leafHash: new Uint8Array(33), proof: [leaves[1]!] }, H),
      () => verifyConsistency({ size1: 3n, size2: 2n, root1: root, root2: root, proof: [] }, H),
      () => verifyConsistency({ size1: 2n, size2: 2n, root1: root, root2: root, proof: [root] }, H),
      () => verifyConsistency({ size1: 0n, size2: 2n, root1: root, root2: root, proof: [] }, H),
      () => verifyConsistency({ size1: 1n, size2: 2n, root1: leafHash, root2: root, proof: [] }, H),
    ];
    for (const c of cases) expect(c).toThrow(expect.objectContaining({ code: 'VERIFICATION_FAILED' }));
    verifyConsistency({ size1: 0n, size2: 2n, root1: H.emptyRoot(), root2: root, proof: [] }, H);
  });
});

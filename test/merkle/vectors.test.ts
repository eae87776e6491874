// Byte-for-byte agreement with Go's golang.org/x/mod/sumdb/tlog (test/data/go-sumdb-vectors.json).
import { describe, expect, it } from 'vitest';
import {
  assembleProof,
  CompactRange,
  consistencyPlan,
  defaultHasher as H,
  inclusionPlan,
  type NodeId,
  planNodes,
  verifyConsistency,
  verifyInclusion,
} from '../../src/merkle/index.js';
import { b64, hex, toB64, vectors } from '../helpers/vectors.js';

for (const name of ['rfc6962Reference', 'leafN'] as const) {
  const tree = vectors[name];
  const leafHashes = tree.leaves.map((l) => H.leafHash(hex(l.dataHex)));

  // Every node of the full tree, for the plan → fetch → assemble path.
  const nodeHash = (node: NodeId): Uint8Array => {
    const start = Number(node.index) << node.level;
    const range = new CompactRange(0n, [], H);
    for (const h of leafHashes.slice(start, start + (1 << node.level))) range.append(h);
    return range.rootHash();
  };

  describe(`Go vectors: ${name}`, () => {
    it('leaf hashes', () => {
      for (const [i, l] of tree.leaves.entries()) expect(toB64(leafHashes[i]!)).toBe(l.leafHash);
    });

    it('roots of every size, via the compact range', () => {
      const range = new CompactRange(0n, [], H);
      for (const r of tree.roots) {
        while (range.size < BigInt(r.size)) range.append(leafHashes[Number(range.size)]!);
        expect(toB64(range.rootHash())).toBe(r.root);
      }
    });

    it(`${tree.inclusion.length} inclusion proofs: built and verified`, () => {
      for (const v of tree.inclusion) {
        const plan = inclusionPlan(BigInt(v.index), BigInt(v.size));
        const proof = assembleProof(plan, planNodes(plan).map(nodeHash), H);
        expect(proof.map(toB64)).toEqual(v.proof);
        verifyInclusion(
          {
            index: BigInt(v.index),
            size: BigInt(v.size),
            leafHash: b64(v.leafHash),
            proof: v.proof.map(b64),
            rootHash: b64(v.root),
          },
          H,
        );
      }
    });

    it(`${tree.consistency.length} consistency proofs: built and verified`, () => {
      for (const v of tree.consistency) {
        const input = {
          size1: BigInt(v.size1),
          size2: BigInt(v.size2),
          root1: b64(v.root1),
          root2: b64(v.root2),
          proof: v.proof.map(b64),
        };
        if (v.size1 > 0) {
          const plan = consistencyPlan(input.size1, input.size2);
          expect(assembleProof(plan, planNodes(plan).map(nodeHash), H).map(toB64)).toEqual(v.proof);
        }
        verifyConsistency(input, H);
      }
    });
  });
}

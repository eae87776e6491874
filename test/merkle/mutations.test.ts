// Every single-bit change of a proof, root or leaf hash must be rejected (DESIGN §8.10).
import { describe, expect, it } from 'vitest';
import { defaultHasher as H, verifyConsistency, verifyInclusion } from '../../src/merkle/index.js';
import { b64, bitFlips, vectors } from '../helpers/vectors.js';

const inclusion = vectors.leafN.inclusion.filter((v) => v.proof.length >= 3).slice(0, 6);
const consistency = vectors.leafN.consistency.filter((v) => v.proof.length >= 3).slice(0, 6);

describe('mutations', () => {
  it.each(inclusion)('inclusion $index/$size: every bit flip of proof, leaf hash and root fails', (v) => {
    const base = {
      index: BigInt(v.index),
      size: BigInt(v.size),
      leafHash: b64(v.leafHash),
      proof: v.proof.map(b64),
      rootHash: b64(v.root),
    };
    verifyInclusion(base, H);
    let tried = 0;
    for (const [i, p] of base.proof.entries()) {
      for (const flipped of bitFlips(p)) {
        const proof = base.proof.map((q, j) => (j === i ? flipped : q));
        expect(() => verifyInclusion({ ...base, proof }, H)).toThrow();
        tried++;
      }
    }
    for (const leafHash of bitFlips(base.leafHash))
      expect(() => verifyInclusion({ ...base, leafHash }, H)).toThrow();
    for (const rootHash of bitFlips(base.rootHash))
      expect(() => verifyInclusion({ ...base, rootHash }, H)).toThrow();
    // Dropped, repeated and extra elements.
    expect(() => verifyInclusion({ ...base, proof: base.proof.slice(1) }, H)).toThrow();
    expect(() => verifyInclusion({ ...base, proof: base.proof.slice(0, -1) }, H)).toThrow();
    expect(() => verifyInclusion({ ...base, proof: [...base.proof, base.rootHash] }, H)).toThrow();
    expect(tried).toBe(base.proof.length * 256);
  });

  it.each(consistency)('consistency $size1→$size2: every bit flip of proof and roots fails', (v) => {
    const base = {
      size1: BigInt(v.size1),
      size2: BigInt(v.size2),
      root1: b64(v.root1),
      root2: b64(v.root2),
      proof: v.proof.map(b64),
    };
    verifyConsistency(base, H);
    for (const [i, p] of base.proof.entries()) {
      for (const flipped of bitFlips(p)) {
        const proof = base.proof.map((q, j) => (j === i ? flipped : q));
        expect(() => verifyConsistency({ ...base, proof }, H)).toThrow();
      }
    }
    for (const root1 of bitFlips(base.root1))
      expect(() => verifyConsistency({ ...base, root1 }, H)).toThrow();
    for (const root2 of bitFlips(base.root2))
      expect(() => verifyConsistency({ ...base, root2 }, H)).toThrow();
    expect(() => verifyConsistency({ ...base, proof: base.proof.slice(1) }, H)).toThrow();
    expect(() => verifyConsistency({ ...base, proof: [...base.proof, base.root1] }, H)).toThrow();
  });
});

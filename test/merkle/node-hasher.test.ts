// The server's SHA-256 (hash-wasm, src/node-hasher.ts) against noble and node:crypto: any
// disagreement would fork the log from every verifier, so it is checked on arbitrary inputs,
// including entries past hash-wasm's 16 KiB staging buffer and past the hasher's 64 KiB scratch.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultHasher } from '../../src/merkle/hash.js';
import { nodeHasher } from '../../src/node-hasher.js';

const sha256 = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

describe('nodeHasher (hash-wasm)', () => {
  it('leaf hashes equal SHA-256(0x00 ‖ entry) and noble’s, at any size', () => {
    const sizes = fc.oneof(fc.nat(600), fc.integer({ min: 16_000, max: 70_000 }));
    fc.assert(
      fc.property(
        sizes.chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
        (entry) => {
          const got = nodeHasher.leafHash(entry);
          expect(got).toEqual(sha256(new Uint8Array([0]), entry));
          expect(got).toEqual(defaultHasher.leafHash(entry));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('node hashes equal SHA-256(0x01 ‖ left ‖ right), and results are never shared', () => {
    const hash = fc.uint8Array({ minLength: 32, maxLength: 32 });
    fc.assert(
      fc.property(hash, hash, (l, r) => {
        const a = nodeHasher.nodeHash(l, r);
        const b = nodeHasher.nodeHash(r, l);
        expect(a).toEqual(sha256(new Uint8Array([1]), l, r));
        // The second call must not overwrite the first result (no view into wasm memory).
        expect(a).toEqual(defaultHasher.nodeHash(l, r));
        expect(b).toEqual(defaultHasher.nodeHash(r, l));
      }),
    );
  });

  it('the empty root is SHA-256 of nothing', () => {
    expect(nodeHasher.emptyRoot()).toEqual(sha256());
  });
});

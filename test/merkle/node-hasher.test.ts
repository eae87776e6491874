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

  it('a pair stored side by side hashes as nodeHash of its halves; a pair past the end is refused', () => {
    const buffer = fc.uint8Array({ minLength: 64, maxLength: 300 });
    fc.assert(
      fc.property(
        buffer.chain((b) => fc.tuple(fc.constant(b), fc.nat(b.length - 64))),
        ([b, at]) => {
          const left = b.slice(at, at + 32);
          const right = b.slice(at + 32, at + 64);
          for (const h of [nodeHasher, defaultHasher]) {
            expect(h.nodeHashOfPair(b, at)).toEqual(sha256(new Uint8Array([1]), left, right));
            expect(() => h.nodeHashOfPair(b, b.length - 63)).toThrow(/no node pair/);
            expect(() => h.nodeHashOfPair(b, -1)).toThrow(/no node pair/);
          }
        },
      ),
    );
  });

  it('the empty root is SHA-256 of nothing', () => {
    expect(nodeHasher.emptyRoot()).toEqual(sha256());
  });
});

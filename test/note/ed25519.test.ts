// node:crypto's Ed25519 (the server's and the Node client's) against noble (the default, and
// the browser's): same signatures, and the same verdict on valid, altered and non-canonical input.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nodeEd25519 } from '../../src/node-ed25519.js';
import {
  ED25519,
  nobleEd25519,
  openCheckpoint,
  parseVerifierKey,
  signerFromSeed,
} from '../../src/note/index.js';
import { utf8, vectors } from '../helpers/vectors.js';

const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const P = 2n ** 255n - 19n;

const le = (n: bigint) => Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn));
const readLe = (b: Uint8Array) => b.reduce((acc, x, i) => acc + (BigInt(x) << BigInt(8 * i)), 0n);
const publicKeyOf = (seed: Uint8Array) => signerFromSeed('ed25519.test', ED25519, seed).publicKey;
const seedOf = (i: number) => Uint8Array.from({ length: 32 }, (_, j) => (i * 31 + j * 7) & 0xff);

function flipBit(b: Uint8Array, bit: number): Uint8Array {
  const out = b.slice();
  out[bit >> 3]! ^= 1 << (bit & 7);
  return out;
}

/** Both implementations' verdict, which must be the same. */
function agree(sig: Uint8Array, msg: Uint8Array, pub: Uint8Array): boolean {
  const a = nobleEd25519.verifier(pub)(sig, msg);
  expect(nodeEd25519.verifier(pub)(sig, msg)).toBe(a);
  return a;
}

describe('Ed25519: node:crypto and noble', () => {
  it('make the same signatures, and both verify them', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ maxLength: 300 }),
        (seed, msg) => {
          const sig = nobleEd25519.signer(seed)(msg);
          expect(nodeEd25519.signer(seed)(msg)).toEqual(sig);
          expect(agree(sig, msg, publicKeyOf(seed))).toBe(true);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('agree on every single-bit change of a signature, message or public key', () => {
    for (let i = 0; i < 3; i++) {
      const seed = seedOf(i);
      const msg = utf8(`message ${i}`);
      const sig = nobleEd25519.signer(seed)(msg);
      const pub = publicKeyOf(seed);
      expect(agree(sig, msg, pub)).toBe(true);
      for (let bit = 0; bit < 512; bit++) expect(agree(flipBit(sig, bit), msg, pub)).toBe(false);
      for (let bit = 0; bit < msg.length * 8; bit++) expect(agree(sig, flipBit(msg, bit), pub)).toBe(false);
      for (let bit = 0; bit < 256; bit++) expect(agree(sig, msg, flipBit(pub, bit))).toBe(false);
    }
  });

  it("node:crypto's thread-pool check gives the synchronous verdict on every single-bit change", async () => {
    const seed = seedOf(5);
    const msg = utf8('off the event loop');
    const sig = nobleEd25519.signer(seed)(msg);
    const pub = publicKeyOf(seed);
    const cases: [Uint8Array, Uint8Array, Uint8Array][] = [[sig, msg, pub]];
    for (let bit = 0; bit < 512; bit++) cases.push([flipBit(sig, bit), msg, pub]);
    for (let bit = 0; bit < msg.length * 8; bit++) cases.push([sig, flipBit(msg, bit), pub]);
    for (let bit = 0; bit < 256; bit++) cases.push([sig, msg, flipBit(pub, bit)]);
    cases.push([sig.subarray(1), msg, pub]);
    const verdicts = await Promise.all(cases.map(([s, m, p]) => nodeEd25519.verifierAsync!(p)(s, m)));
    expect(verdicts).toEqual(cases.map(([s, m, p]) => nodeEd25519.verifier(p)(s, m)));
    expect(verdicts.filter(Boolean)).toHaveLength(1);
  });

  it('refuse non-canonical S (S + L) and non-canonical point encodings (y + p)', () => {
    const seed = seedOf(9);
    const msg = utf8('canonical');
    const sig = nobleEd25519.signer(seed)(msg);
    const pub = publicKeyOf(seed);
    const bigS = new Uint8Array(64);
    bigS.set(sig.subarray(0, 32));
    bigS.set(le(readLe(sig.subarray(32)) + L), 32);
    expect(agree(bigS, msg, pub)).toBe(false);
    // y = 1 (the identity) written as 1 + p: a valid point, a non-canonical encoding.
    const identityPlusP = le(1n + P);
    expect(agree(sig, msg, identityPlusP)).toBe(false);
    const badR = new Uint8Array(64);
    badR.set(identityPlusP);
    badR.set(sig.subarray(32), 32);
    expect(agree(badR, msg, pub)).toBe(false);
    // Small-order, boundary and off-curve public keys: the same verdict (false) from both.
    for (const key of [le(1n), le(P - 1n), le(0n), new Uint8Array(32).fill(0xff)])
      expect(agree(sig, msg, key)).toBe(false);
  });

  it('node:crypto verifies the Go sumdb note vector, and nothing else', () => {
    const v = parseVerifierKey(vectors.note.logVkey as string, nodeEd25519);
    expect(openCheckpoint(vectors.note.checkpoint as string, [v]).checkpoint.size).toBe(300n);
    const forged = (vectors.note.checkpoint as string).replace('\n300\n', '\n301\n');
    expect(() => openCheckpoint(forged, [v])).toThrow();
  });
});

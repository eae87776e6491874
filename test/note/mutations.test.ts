// Every single-bit change of a note, key string or receipt must be rejected (DESIGN §8.10).
import { describe, expect, it } from 'vitest';
import { defaultHasher as H } from '../../src/merkle/index.js';
import { nodeEd25519 } from '../../src/node-ed25519.js';
import {
  COSIGNATURE_V1,
  decodeUtf8,
  formatReceipt,
  openNote,
  openNoteAsync,
  parseSignerKey,
  parseVerifierKey,
  signerFromSeed,
  verifyCosignatures,
  verifyReceipt,
} from '../../src/note/index.js';
import { b64, bitFlips, hex, utf8, vectors } from '../helpers/vectors.js';

const v = vectors.note as Record<string, string>;
const logKey = parseVerifierKey(v.logVkey!);

function* textFlips(s: string): Generator<string> {
  for (const b of bitFlips(utf8(s))) {
    const t = decodeUtf8(b);
    if (t !== undefined) yield t;
  }
}

describe('mutations', () => {
  it('every bit flip of a signed checkpoint is rejected', () => {
    openNote(v.checkpoint!, [logKey]);
    let n = 0;
    for (const bytes of bitFlips(utf8(v.checkpoint!))) {
      expect(() => openNote(bytes, [logKey])).toThrow();
      n++;
    }
    expect(n).toBe(utf8(v.checkpoint!).length * 8);
  });

  it('every bit flip of a signed checkpoint is rejected by the thread-pool check too (node:crypto)', async () => {
    const nodeKey = parseVerifierKey(v.logVkey!, nodeEd25519);
    expect((await openNoteAsync(v.checkpoint!, [nodeKey])).verified).toHaveLength(1);
    const verdicts = await Promise.all(
      [...bitFlips(utf8(v.checkpoint!))].map((bytes) =>
        openNoteAsync(bytes, [nodeKey]).then(
          () => 'accepted',
          (e: { code?: string }) => e.code,
        ),
      ),
    );
    expect(verdicts).toHaveLength(utf8(v.checkpoint!).length * 8);
    expect(verdicts.filter((x) => x === 'accepted')).toEqual([]);
  });

  it('every bit flip of a verifier key string either fails to parse or rejects the note', () => {
    for (const key of textFlips(v.logVkey!)) {
      let verifier: ReturnType<typeof parseVerifierKey>;
      try {
        verifier = parseVerifierKey(key);
      } catch {
        continue;
      }
      expect(() => openNote(v.checkpoint!, [verifier])).toThrow();
    }
  });

  it('every bit flip of a signer key string fails to parse or yields another key', () => {
    for (const key of textFlips(v.logSkey!)) {
      let ok = false;
      try {
        const s = parseSignerKey(key);
        ok =
          s.keyId === logKey.keyId &&
          Buffer.from(s.publicKey).equals(Buffer.from(logKey.publicKey)) &&
          s.name === logKey.name;
      } catch {}
      expect(ok).toBe(false);
    }
  });

  it('every bit flip of a cosigned checkpoint loses the log signature or the cosignature', () => {
    // The cosignature covers the text only, so a flip in the log's own signature line is
    // caught by the log key; accepting a cosigned checkpoint requires both.
    const witness = parseVerifierKey(v.cosignerVkey!);
    expect(verifyCosignatures(v.cosignedCheckpoint!, [witness])).toHaveLength(1);
    expect(signerFromSeed(v.cosignerName!, COSIGNATURE_V1, hex(v.cosignerSeedHex!)).keyId).toBe(
      witness.keyId,
    );
    for (const bytes of bitFlips(utf8(v.cosignedCheckpoint!))) {
      let accepted = false;
      try {
        openNote(bytes, [logKey]);
        accepted = verifyCosignatures(bytes, [witness]).length === 1;
      } catch {}
      expect(accepted).toBe(false);
    }
  });

  it('every bit flip of a receipt is rejected', () => {
    const tree = vectors.leafN;
    const proofVector = tree.inclusion.find((p) => p.size === 300 && p.index === 150)!;
    const leafHash = b64(proofVector.leafHash);
    const receipt = formatReceipt({
      index: 150n,
      proof: proofVector.proof.map(b64),
      checkpoint: v.checkpoint!,
    });
    verifyReceipt(receipt, leafHash, [logKey], { hasher: H });
    let n = 0;
    for (const flipped of textFlips(receipt)) {
      expect(() => verifyReceipt(flipped, leafHash, [logKey], { hasher: H })).toThrow();
      n++;
    }
    expect(n).toBeGreaterThan(utf8(receipt).length * 5); // flips that stay valid UTF-8
    for (const bad of bitFlips(leafHash)) expect(() => verifyReceipt(receipt, bad, [logKey])).toThrow();
  });
});

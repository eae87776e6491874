// Byte-for-byte agreement with Go's golang.org/x/mod/sumdb/note and the C2SP examples.
import { describe, expect, it } from 'vitest';
import {
  COSIGNATURE_V1,
  cosign,
  ED25519,
  formatCheckpoint,
  formatSignatureLine,
  formatSignerKey,
  formatVerifierKey,
  openCheckpoint,
  openNote,
  parseCheckpoint,
  parseNote,
  parseSignerKey,
  parseVerifierKey,
  signCheckpoint,
  signerFromSeed,
  signNote,
  verifierOf,
  verifyCosignatures,
} from '../../src/note/index.js';
import { hex, vectors } from '../helpers/vectors.js';

const v = vectors.note as Record<string, string> & { cosignatureTimestamp: number; treeSize: number };

describe('signed-note vectors', () => {
  it('x/mod PeterNeumann: key strings and the deterministic signature', () => {
    const skey = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
    const vkey = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
    const text =
      "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    const signer = parseSignerKey(skey);
    expect(formatVerifierKey(verifierOf(signer))).toBe(vkey);
    expect(formatVerifierKey(parseVerifierKey(vkey))).toBe(vkey);
    const note = signNote(text, [signer]);
    expect(note).toBe(
      `${text}\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`,
    );
    expect(openNote(note, [parseVerifierKey(vkey)]).verified).toHaveLength(1);
  });

  it('C2SP signed-note example verifies, and fails with one character changed', () => {
    const vkey = parseVerifierKey('example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k');
    const note =
      'This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n';
    expect(openNote(note, [vkey]).text).toBe('This is an example message.\n');
    expect(() => openNote(note.replace('message.', 'message!'), [vkey])).toThrow(/invalid signature/);
  });
});

describe('checkpoint and cosignature vectors (fixed seeds)', () => {
  const signer = parseSignerKey(v.logSkey!);

  it('key strings', () => {
    expect(
      formatSignerKey(
        v.origin!,
        ED25519,
        hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'),
      ),
    ).toBe(v.logSkey);
    expect(formatVerifierKey(verifierOf(signer))).toBe(v.logVkey);
    expect(signer.keyId.toString(16).padStart(8, '0')).toBe(v.logKeyID);
  });

  it('signs the size-300 and size-150 checkpoints exactly as Go', () => {
    for (const note of [v.checkpoint!, v.oldCheckpoint!]) {
      const checkpoint = parseCheckpoint(parseNote(note).text);
      expect(signCheckpoint(checkpoint, [signer])).toBe(note);
      expect(openCheckpoint(note, [parseVerifierKey(v.logVkey!)], { origin: v.origin! }).checkpoint).toEqual(
        checkpoint,
      );
    }
    expect(formatCheckpoint(parseCheckpoint(v.checkpointText!))).toBe(v.checkpointText);
  });

  it('cosignature/v1 line and cosigned checkpoint', () => {
    const cosigner = signerFromSeed(v.cosignerName!, COSIGNATURE_V1, hex(v.cosignerSeedHex!), {
      now: () => BigInt(v.cosignatureTimestamp),
    });
    expect(formatVerifierKey(verifierOf(cosigner))).toBe(v.cosignerVkey);
    const line = formatSignatureLine(cosign(parseNote(v.checkpoint!), cosigner));
    expect(line).toBe(v.cosignatureLine);
    expect(v.cosignedCheckpoint).toBe(v.checkpoint + line);
    const got = verifyCosignatures(v.cosignedCheckpoint!, [parseVerifierKey(v.cosignerVkey!)]);
    expect(got.map((c) => c.timestamp)).toEqual([BigInt(v.cosignatureTimestamp)]);
    // The log key still opens the cosigned note; the cosignature is an unknown key to it.
    expect(openNote(v.cosignedCheckpoint!, [verifierOf(signer)]).verified).toHaveLength(1);
  });
});

// Cosignatures, c2sp.org/tlog-cosignature cosignature/v1 (spec digest §4.1): a witness signs
// "cosignature/v1\ntime <t>\n" ‖ checkpoint text with a type 0x04 key; the signature line's
// bytes are keyID(4) ‖ timestamp(8, big-endian) ‖ Ed25519 signature(64).
import { VellumError } from '../error.js';
import { utf8 } from './encoding.js';
import { COSIGNATURE_V1, type Signer, type Verifier } from './keys.js';
import { type Note, type NoteSignature, parseNote } from './note.js';

/** A cosignature line for the checkpoint note's text. */
export function cosign(note: Note, cosigner: Signer): NoteSignature {
  if (cosigner.type !== COSIGNATURE_V1)
    throw new VellumError('CONFIG', 'a cosigner needs a cosignature/v1 (0x04) key');
  return { name: cosigner.name, keyId: cosigner.keyId, signature: cosigner.sign(utf8(note.text)) };
}

export function cosignatureTimestamp(sig: NoteSignature): bigint {
  if (sig.signature.length !== 72) throw new VellumError('MALFORMED', 'cosignature must be 72 bytes');
  return new DataView(sig.signature.buffer, sig.signature.byteOffset, 8).getBigUint64(0);
}

export interface VerifiedCosignature {
  readonly verifier: Verifier;
  readonly timestamp: bigint;
}

/**
 * The witnesses among `witnesses` that validly cosigned the note. A cosignature line from a
 * known witness that does not verify rejects the note (signed-note rules).
 */
export function verifyCosignatures(
  message: Uint8Array | string,
  witnesses: readonly Verifier[],
): VerifiedCosignature[] {
  const note = parseNote(message);
  const text = utf8(note.text);
  const out: VerifiedCosignature[] = [];
  for (const sig of note.signatures) {
    const verifier = witnesses.find((w) => w.name === sig.name && w.keyId === sig.keyId);
    if (!verifier) continue;
    if (!verifier.verify(text, sig.signature)) {
      throw new VellumError('VERIFICATION_FAILED', `invalid cosignature by ${sig.name}`, { note: message });
    }
    if (!out.some((c) => c.verifier === verifier))
      out.push({ verifier, timestamp: cosignatureTimestamp(sig) });
  }
  return out;
}

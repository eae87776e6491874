// The client's pure verification (no Node built-ins, runs in a browser): a new checkpoint is
// accepted only if it is signed by the log and consistent with the one already trusted.
// A log that shows two histories is caught here, and the error carries the evidence.
import { VellumError } from '../src/error.js';
import { bytesEqual, defaultHasher, type TreeHasher } from '../src/merkle/hash.js';
import { verifyConsistency } from '../src/merkle/verify.js';
import { type Checkpoint, openCheckpoint } from '../src/note/checkpoint.js';
import { encodeBase64 } from '../src/note/encoding.js';
import type { Verifier } from '../src/note/keys.js';

export interface TrustedCheckpoint {
  readonly checkpoint: Checkpoint;
  /** The signed note, kept as evidence. */
  readonly note: string;
}

export interface AdvanceInput {
  trusted: TrustedCheckpoint | undefined;
  /** The new signed checkpoint note. */
  note: string;
  /** Consistency proof from trusted.size to the new size (empty if either is 0 or they are equal). */
  proof: readonly Uint8Array[];
  verifier: Verifier;
  origin?: string;
  hasher?: TreeHasher;
}

/** Opens the new checkpoint and checks it extends the trusted one; returns the new trusted state. */
export function advanceTrusted(input: AdvanceInput): TrustedCheckpoint {
  const { checkpoint } = openCheckpoint(
    input.note,
    [input.verifier],
    input.origin === undefined ? {} : { origin: input.origin },
  );
  const next = { checkpoint, note: input.note };
  const trusted = input.trusted;
  if (trusted === undefined) return next;
  const evidence = { trusted: trusted.note, received: input.note, proof: input.proof.map(encodeBase64) };
  if (checkpoint.origin !== trusted.checkpoint.origin) {
    throw new VellumError('INCONSISTENT', 'checkpoint is for another origin', evidence);
  }
  if (checkpoint.size < trusted.checkpoint.size) {
    throw new VellumError(
      'INCONSISTENT',
      `rollback: the log signed size ${checkpoint.size} after size ${trusted.checkpoint.size} was trusted`,
      evidence,
    );
  }
  if (checkpoint.size === trusted.checkpoint.size) {
    if (!bytesEqual(checkpoint.rootHash, trusted.checkpoint.rootHash)) {
      throw new VellumError(
        'INCONSISTENT',
        `split view: two different roots signed for size ${checkpoint.size}`,
        evidence,
      );
    }
    return trusted;
  }
  try {
    verifyConsistency(
      {
        size1: trusted.checkpoint.size,
        size2: checkpoint.size,
        root1: trusted.checkpoint.rootHash,
        root2: checkpoint.rootHash,
        proof: input.proof,
      },
      input.hasher ?? defaultHasher,
    );
  } catch (e) {
    throw new VellumError(
      'INCONSISTENT',
      `fork: size ${checkpoint.size} is not consistent with trusted size ${trusted.checkpoint.size} (${(e as Error).message})`,
      evidence,
    );
  }
  return next;
}

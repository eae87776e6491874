// Checkpoints, c2sp.org/tlog-checkpoint (spec digest §3): a signed note whose text is
// <origin>\n<size>\n<base64 root hash>\n then optional non-empty extension lines.
import { VellumError } from '../error.js';
import { bytesEqual, HASH_SIZE } from '../merkle/hash.js';
import { decodeBase64, encodeBase64, parseDecimal } from './encoding.js';
import type { Signer, Verifier } from './keys.js';
import { type NoteLimits, type OpenedNote, openNote, openNoteAsync, signNote } from './note.js';

export interface Checkpoint {
  readonly origin: string;
  readonly size: bigint;
  readonly rootHash: Uint8Array;
  readonly extensions: readonly string[];
}

export const MAX_TREE_SIZE = (1n << 64n) - 1n;

// SHA-256(""): the only root a checkpoint of size 0 may carry.
const EMPTY_ROOT = decodeBase64('47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=')!;

const malformed = (why: string) => new VellumError('MALFORMED', `malformed checkpoint: ${why}`);

export function formatCheckpoint(c: Checkpoint): string {
  const ext = c.extensions.map((e) => `${e}\n`).join('');
  return `${c.origin}\n${c.size}\n${encodeBase64(c.rootHash)}\n${ext}`;
}

/** Parses checkpoint note text strictly; format(parse(t)) === t. */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw malformed('must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw malformed('needs origin, size and root hash lines');
  if (lines.some((l) => l.length === 0)) throw malformed('empty line');
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  const size = parseDecimal(sizeText, MAX_TREE_SIZE);
  if (size === undefined) throw malformed(`bad size ${JSON.stringify(sizeText.slice(0, 40))}`);
  const rootHash = decodeBase64(rootText);
  if (rootHash === undefined || rootHash.length !== HASH_SIZE)
    throw malformed('root hash must be base64 of 32 bytes');
  if (size === 0n && !bytesEqual(rootHash, EMPTY_ROOT))
    throw malformed('size 0 with a root other than SHA-256("")');
  return { origin, size, rootHash, extensions };
}

export function signCheckpoint(c: Checkpoint, signers: readonly Signer[]): string {
  return signNote(formatCheckpoint(c), signers);
}

export interface OpenedCheckpoint {
  readonly checkpoint: Checkpoint;
  readonly note: OpenedNote;
}

/** Verifies the note with the log's key(s) and parses the checkpoint; checks the origin if given. */
export function openCheckpoint(
  message: Uint8Array | string,
  verifiers: readonly Verifier[],
  options: NoteLimits & { origin?: string } = {},
): OpenedCheckpoint {
  return checkpointOf(openNote(message, verifiers, options), options.origin);
}

/** openCheckpoint with the signatures checked off the event loop where the verifiers can. */
export async function openCheckpointAsync(
  message: Uint8Array | string,
  verifiers: readonly Verifier[],
  options: NoteLimits & { origin?: string } = {},
): Promise<OpenedCheckpoint> {
  return checkpointOf(await openNoteAsync(message, verifiers, options), options.origin);
}

function checkpointOf(note: OpenedNote, origin: string | undefined): OpenedCheckpoint {
  const checkpoint = parseCheckpoint(note.text);
  if (origin !== undefined && checkpoint.origin !== origin) {
    throw new VellumError(
      'VERIFICATION_FAILED',
      `checkpoint origin ${JSON.stringify(checkpoint.origin)} is not the expected one`,
    );
  }
  return { checkpoint, note };
}

// Receipts in the c2sp.org/tlog-proof text format (spec digest §7):
//   c2sp.org/tlog-proof@v1
//   [extra <base64>]
//   index <n>
//   <base64 hash> × k            inclusion proof, leaf sibling first
//   <blank line>
//   <signed checkpoint note, verbatim>
// Verifies offline with only the entry and the log's verifier key.
import { VellumError } from '../error.js';
import { defaultHasher, HASH_SIZE, type TreeHasher } from '../merkle/hash.js';
import { verifyInclusion } from '../merkle/verify.js';
import { type Checkpoint, MAX_TREE_SIZE, openCheckpoint } from './checkpoint.js';
import { decodeBase64, decodeBase64Into, encodeBase64, parseDecimal } from './encoding.js';
import type { Verifier } from './keys.js';
import { DEFAULT_NOTE_LIMITS, parseNote } from './note.js';

export const RECEIPT_HEADER = 'c2sp.org/tlog-proof@v1';
/** An inclusion proof of a tree of at most 2^64 leaves has at most 64 hashes; tlog-witness caps at 63. */
const MAX_PROOF_HASHES = 64;
const MAX_EXTRA_BYTES = 4096;

export interface Receipt {
  readonly index: bigint;
  readonly proof: readonly Uint8Array[];
  /** The signed checkpoint note, verbatim (log signature and any cosignatures). */
  readonly checkpoint: string;
  /** Optional opaque, unauthenticated data. */
  readonly extra?: Uint8Array;
}

const malformed = (why: string) => new VellumError('MALFORMED', `malformed receipt: ${why}`);

export function formatReceipt(r: Receipt): string {
  const extra = r.extra === undefined ? '' : `extra ${encodeBase64(r.extra)}\n`;
  const proof = r.proof.map((h) => `${encodeBase64(h)}\n`).join('');
  return `${RECEIPT_HEADER}\n${extra}index ${r.index}\n${proof}\n${r.checkpoint}`;
}

/** Parses strictly: format(parse(x)) === x. The checkpoint is parsed but not yet verified. */
export function parseReceipt(text: string): Receipt {
  const r = parseReceiptUnopened(text);
  parseNote(r.checkpoint);
  return r;
}

/** The receipt's own lines; parseReceipt then parses the checkpoint note. */
function parseReceiptUnopened(text: string): Receipt {
  if (text.length > DEFAULT_NOTE_LIMITS.maxBytes + 8192) throw malformed('too large');
  const blank = text.indexOf('\n\n');
  if (blank < 0) throw malformed('no blank line before the checkpoint');
  const head = text.slice(0, blank).split('\n');
  const checkpoint = text.slice(blank + 2);
  if (head.shift() !== RECEIPT_HEADER) throw malformed(`first line must be ${RECEIPT_HEADER}`);
  let extra: Uint8Array | undefined;
  if (head[0]?.startsWith('extra ')) {
    extra = decodeBase64(head.shift()!.slice(6));
    if (extra === undefined || extra.length > MAX_EXTRA_BYTES) throw malformed('bad extra line');
  }
  const indexLine = head.shift();
  if (!indexLine?.startsWith('index ')) throw malformed('missing index line');
  const index = parseDecimal(indexLine.slice(6), MAX_TREE_SIZE - 1n);
  if (index === undefined) throw malformed('bad index');
  if (head.length > MAX_PROOF_HASHES) throw malformed('too many proof hashes');
  // One buffer for every hash of the proof, each a view of it.
  const hashes = new Uint8Array(head.length * HASH_SIZE);
  const proof = head.map((line, i) => {
    if (decodeBase64Into(line, hashes, i * HASH_SIZE) !== HASH_SIZE)
      throw malformed('proof line must be base64 of 32 bytes');
    return hashes.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE);
  });
  return extra === undefined ? { index, proof, checkpoint } : { index, proof, checkpoint, extra };
}

export interface VerifiedReceipt {
  readonly receipt: Receipt;
  readonly checkpoint: Checkpoint;
}

/**
 * Verifies a receipt offline: the checkpoint's signature by the log's key, then the inclusion
 * of leafHash at the receipt's index in the checkpoint's tree.
 */
export function verifyReceipt(
  receipt: Receipt | string,
  leafHash: Uint8Array,
  logKeys: readonly Verifier[],
  options: { origin?: string; hasher?: TreeHasher } = {},
): VerifiedReceipt {
  const r = typeof receipt === 'string' ? parseReceipt(receipt) : receipt;
  const { checkpoint } = openCheckpoint(
    r.checkpoint,
    logKeys,
    options.origin === undefined ? {} : { origin: options.origin },
  );
  verifyInclusion(
    { index: r.index, size: checkpoint.size, leafHash, proof: r.proof, rootHash: checkpoint.rootHash },
    options.hasher ?? defaultHasher,
  );
  return { receipt: r, checkpoint };
}

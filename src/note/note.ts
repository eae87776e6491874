// Signed notes, c2sp.org/signed-note (spec digest §2): the text, a blank line, then one
// "— <name> <base64(keyID ‖ signature)>" line per signature.
import { VellumError } from '../error.js';
import { concatBytes, decodeBase64, decodeUtf8, encodeBase64, utf8 } from './encoding.js';
import type { Signer, Verifier } from './keys.js';

export interface NoteSignature {
  readonly name: string;
  readonly keyId: number;
  /** The bytes after the key ID. */
  readonly signature: Uint8Array;
}

export interface Note {
  /** The signed text, ending in "\n". */
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

export interface OpenedNote extends Note {
  /** Signatures made by one of the given verifiers, all checked good. */
  readonly verified: readonly (NoteSignature & { verifier: Verifier })[];
}

export interface NoteLimits {
  /** Largest note accepted, in bytes. */
  maxBytes?: number;
  /** Most signature lines accepted (x/mod caps at 100; the spec asks for at least 16). */
  maxSignatures?: number;
}

export const DEFAULT_NOTE_LIMITS = { maxBytes: 1 << 20, maxSignatures: 100 } as const;

const malformed = (why: string) => new VellumError('MALFORMED', `malformed note: ${why}`);
const SIG_PREFIX = '\u2014 ';

/** ASCII control characters other than LF are not allowed anywhere in a note. */
function hasControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== 0x0a) || c === 0x7f) return true;
  }
  return false;
}

/** Parses a note without checking any signature. Strict: the same bytes always format back. */
export function parseNote(message: Uint8Array | string, limits: NoteLimits = {}): Note {
  const maxBytes = limits.maxBytes ?? DEFAULT_NOTE_LIMITS.maxBytes;
  const maxSignatures = limits.maxSignatures ?? DEFAULT_NOTE_LIMITS.maxSignatures;
  const size = typeof message === 'string' ? message.length : message.length;
  if (size > maxBytes) throw malformed(`larger than ${maxBytes} bytes`);
  const s = typeof message === 'string' ? message : decodeUtf8(message);
  if (s === undefined) throw malformed('not valid UTF-8');
  // A UTF-16 code unit is at most 3 UTF-8 bytes: encode to count only when it could matter.
  if (s.length * 3 > maxBytes && utf8(s).length > maxBytes) throw malformed(`larger than ${maxBytes} bytes`);
  if (hasControlCharacter(s)) throw malformed('control character');
  const split = s.lastIndexOf('\n\n');
  if (split < 0) throw malformed('no blank line before the signatures');
  const text = s.slice(0, split + 1);
  const lines = s.slice(split + 2);
  if (!lines.endsWith('\n')) throw malformed('signature block must end with a newline');
  const signatures: NoteSignature[] = [];
  for (const line of lines.slice(0, -1).split('\n')) {
    if (signatures.length === maxSignatures) throw malformed(`more than ${maxSignatures} signatures`);
    if (!line.startsWith(SIG_PREFIX)) throw malformed('signature line must start with "— "');
    const fields = line.slice(SIG_PREFIX.length).split(' ');
    if (fields.length !== 2) throw malformed('signature line must be "— <name> <signature>"');
    const [name, b64] = fields as [string, string];
    if (name.length === 0 || name.includes('+') || /\s/u.test(name)) throw malformed('bad key name');
    const raw = decodeBase64(b64);
    if (raw === undefined || raw.length <= 4) throw malformed('bad signature encoding');
    const keyId = new DataView(raw.buffer, raw.byteOffset).getUint32(0);
    signatures.push({ name, keyId, signature: raw.slice(4) });
  }
  if (signatures.length === 0) throw malformed('no signatures');
  return { text, signatures };
}

export function formatSignatureLine(sig: NoteSignature): string {
  const id = new Uint8Array(4);
  new DataView(id.buffer).setUint32(0, sig.keyId);
  return `${SIG_PREFIX}${sig.name} ${encodeBase64(concatBytes(id, sig.signature))}\n`;
}

export function formatNote(note: Note): string {
  return `${note.text}\n${note.signatures.map(formatSignatureLine).join('')}`;
}

function checkText(text: string): void {
  if (!text.endsWith('\n')) throw malformed('text must end with a newline');
  if (text.includes('\n\n') || text.startsWith('\n')) throw malformed('text must not contain a blank line');
  if (hasControlCharacter(text)) throw malformed('control character');
}

/** Signs text with every signer, in order. */
export function signNote(text: string, signers: readonly Signer[]): string {
  checkText(text);
  const bytes = utf8(text);
  const signatures = signers.map((s) => ({ name: s.name, keyId: s.keyId, signature: s.sign(bytes) }));
  return formatNote({ text, signatures });
}

/** Appends signatures (e.g. cosignatures) to an already signed note. */
export function addSignatures(note: Note, signatures: readonly NoteSignature[]): Note {
  return { text: note.text, signatures: [...note.signatures, ...signatures] };
}

/**
 * Parses a note and checks it against known keys (signed-note "Verifying"): a signature whose
 * name and key ID both match a verifier must verify, else the whole note is rejected; unknown
 * signatures are ignored; at least one known signature is required.
 */
export function openNote(
  message: Uint8Array | string,
  verifiers: readonly Verifier[],
  limits: NoteLimits = {},
): OpenedNote {
  const { note, bytes, known } = signaturesToCheck(message, verifiers, limits);
  // Stops at the first bad signature: a note stuffed with forged lines costs one check.
  const verdicts: boolean[] = [];
  for (const k of known) {
    verdicts.push(k.verifier.verify(bytes, k.signature));
    if (!verdicts.at(-1)) break;
  }
  return opened(message, note, known, verdicts);
}

/** openNote with the signatures checked off the event loop where the verifiers can. */
export async function openNoteAsync(
  message: Uint8Array | string,
  verifiers: readonly Verifier[],
  limits: NoteLimits = {},
): Promise<OpenedNote> {
  const { note, bytes, known } = signaturesToCheck(message, verifiers, limits);
  const verdicts: boolean[] = [];
  for (const k of known) {
    verdicts.push(await k.verifier.verifyAsync(bytes, k.signature));
    if (!verdicts.at(-1)) break;
  }
  return opened(message, note, known, verdicts);
}

type KnownSignature = NoteSignature & { verifier: Verifier };

function signaturesToCheck(message: Uint8Array | string, verifiers: readonly Verifier[], limits: NoteLimits) {
  const note = parseNote(message, limits);
  const known: KnownSignature[] = [];
  for (const sig of note.signatures) {
    const verifier = verifiers.find((v) => v.name === sig.name && v.keyId === sig.keyId);
    if (verifier) known.push({ ...sig, verifier });
  }
  return { note, bytes: utf8(note.text), known };
}

function opened(
  message: Uint8Array | string,
  note: Note,
  known: readonly KnownSignature[],
  verdicts: readonly boolean[],
): OpenedNote {
  const bad = verdicts.indexOf(false);
  if (bad >= 0) {
    throw new VellumError('VERIFICATION_FAILED', `invalid signature by ${known[bad]!.name}`, {
      note: message,
    });
  }
  if (known.length === 0) {
    throw new VellumError('VERIFICATION_FAILED', 'note has no signature by a known key', { note: message });
  }
  return { ...note, verified: [...known] };
}

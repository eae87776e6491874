// Ed25519 note keys as c2sp.org/signed-note defines them and Go's golang.org/x/mod/sumdb/note
// writes them (spec digest §2.2–2.4):
//   verifier key  <name>+<hex key ID>+<base64(type ‖ public key)>
//   signer key    PRIVATE+KEY+<name>+<hex key ID>+<base64(type ‖ seed)>
// key ID = first 4 bytes of SHA-256(name ‖ 0x0A ‖ type ‖ public key), big-endian.
import * as ed from '@noble/ed25519';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { VellumError } from '../error.js';
import { concatBytes, decodeBase64, encodeBase64, utf8 } from './encoding.js';

// Synchronous signing needs SHA-512 wired in (noble-ed25519 v3).
ed.hashes.sha512 = sha512;

/** 0x01: Ed25519 over the note text. 0x04: Ed25519 cosignature/v1 (c2sp.org/tlog-cosignature). */
export type KeyType = 0x01 | 0x04;
export const ED25519: KeyType = 0x01;
export const COSIGNATURE_V1: KeyType = 0x04;

/**
 * Ed25519 as notes use it. noble by default (pure JS, runs in a browser); Node code passes
 * node:crypto's (src/node-ed25519.ts), measured ~20× faster here. Both verify RFC 8032
 * strictly, as Go's crypto/ed25519 does; test/note/ed25519.test.ts holds them to each other.
 */
export interface Ed25519 {
  signer(seed: Uint8Array): (message: Uint8Array) => Uint8Array;
  /** The check never throws: anything invalid is false. */
  verifier(publicKey: Uint8Array): (signature: Uint8Array, message: Uint8Array) => boolean;
  /** The same check off the caller's thread, where the platform has one (node:crypto's pool). */
  verifierAsync?(publicKey: Uint8Array): (signature: Uint8Array, message: Uint8Array) => Promise<boolean>;
}

export const nobleEd25519: Ed25519 = {
  signer: (seed) => (message) => ed.sign(message, seed),
  verifier: (publicKey) => (signature, message) => {
    try {
      // RFC 8032 strict verification, as Go's crypto/ed25519 does.
      return ed.verify(signature, message, publicKey, { zip215: false });
    } catch {
      return false;
    }
  },
};

export interface Verifier {
  readonly name: string;
  readonly keyId: number;
  readonly type: KeyType;
  readonly publicKey: Uint8Array;
  /** Checks a signature line's bytes (after the key ID) over the note text. */
  verify(text: Uint8Array, sig: Uint8Array): boolean;
  /** verify's verdict, computed off the event loop when the Ed25519 implementation can. */
  verifyAsync(text: Uint8Array, sig: Uint8Array): Promise<boolean>;
}

export interface Signer {
  readonly name: string;
  readonly keyId: number;
  readonly type: KeyType;
  readonly publicKey: Uint8Array;
  /** The signature bytes to put after the key ID on a signature line. */
  sign(text: Uint8Array): Uint8Array;
}

const malformed = (what: string) => new VellumError('MALFORMED', what);

/** Names: non-empty, no Unicode white space, no '+' (signed-note §"key names"). */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+]/u.test(name) && !/\p{Cc}/u.test(name);
}

export function computeKeyId(name: string, type: KeyType, publicKey: Uint8Array): number {
  const h = sha256(concatBytes(utf8(name), new Uint8Array([0x0a, type]), publicKey));
  return ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
}

export const formatKeyId = (id: number): string => id.toString(16).padStart(8, '0');

const COSIGNATURE_PREFIX = utf8('cosignature/v1\ntime ');

/** The message a cosignature/v1 signs: "cosignature/v1\ntime <t>\n" ‖ checkpoint text. */
export function cosignatureMessage(text: Uint8Array, timestamp: bigint): Uint8Array {
  return concatBytes(COSIGNATURE_PREFIX, utf8(`${timestamp}\n`), text);
}

const MAX_TIMESTAMP = (1n << 63n) - 1n;

function readUint64(b: Uint8Array): bigint {
  return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0);
}

export function verifierFromPublicKey(
  name: string,
  type: KeyType,
  publicKey: Uint8Array,
  impl: Ed25519 = nobleEd25519,
): Verifier {
  if (!isValidKeyName(name)) throw malformed(`invalid key name ${JSON.stringify(name)}`);
  if (publicKey.length !== 32) throw malformed('Ed25519 public key must be 32 bytes');
  const keyId = computeKeyId(name, type, publicKey);
  const check = impl.verifier(publicKey);
  const checkAsync = impl.verifierAsync?.(publicKey) ?? (async (s, m) => check(s, m));
  // The signature line's bytes → what Ed25519 checks: (signature, message), or undefined when
  // the line cannot be one of this key type's signatures.
  const signed = (text: Uint8Array, sig: Uint8Array): [Uint8Array, Uint8Array] | undefined => {
    if (type === ED25519) return sig.length === 64 ? [sig, text] : undefined;
    if (sig.length !== 72) return undefined;
    const timestamp = readUint64(sig);
    return timestamp <= MAX_TIMESTAMP ? [sig.subarray(8), cosignatureMessage(text, timestamp)] : undefined;
  };
  const verify = (text: Uint8Array, sig: Uint8Array) => {
    const s = signed(text, sig);
    return s !== undefined && check(...s);
  };
  const verifyAsync = async (text: Uint8Array, sig: Uint8Array) => {
    const s = signed(text, sig);
    return s !== undefined && checkAsync(...s);
  };
  return { name, keyId, type, publicKey, verify, verifyAsync };
}

export interface SignerOptions {
  /** Clock for cosignature timestamps, in POSIX seconds. */
  now?: () => bigint;
  ed25519?: Ed25519;
}

export function signerFromSeed(
  name: string,
  type: KeyType,
  seed: Uint8Array,
  options: SignerOptions = {},
): Signer {
  if (!isValidKeyName(name)) throw malformed(`invalid key name ${JSON.stringify(name)}`);
  if (seed.length !== 32) throw malformed('Ed25519 seed must be 32 bytes');
  const publicKey = ed.getPublicKey(seed);
  const keyId = computeKeyId(name, type, publicKey);
  const now = options.now ?? (() => BigInt(Math.floor(Date.now() / 1000)));
  const signWith = (options.ed25519 ?? nobleEd25519).signer(seed);
  const sign =
    type === ED25519
      ? signWith
      : (text: Uint8Array) => {
          const timestamp = now();
          const out = new Uint8Array(72);
          new DataView(out.buffer).setBigUint64(0, timestamp);
          out.set(signWith(cosignatureMessage(text, timestamp)), 8);
          return out;
        };
  return { name, keyId, type, publicKey, sign };
}

export function formatVerifierKey(v: Pick<Verifier, 'name' | 'keyId' | 'type' | 'publicKey'>): string {
  return `${v.name}+${formatKeyId(v.keyId)}+${encodeBase64(concatBytes(new Uint8Array([v.type]), v.publicKey))}`;
}

/** Splits at the first parts−1 '+' only: names hold no '+', but base64 may. */
function splitKey(text: string, parts: number): string[] | undefined {
  const fields: string[] = [];
  let rest = text;
  for (let i = 0; i < parts - 1; i++) {
    const at = rest.indexOf('+');
    if (at < 0) return undefined;
    fields.push(rest.slice(0, at));
    rest = rest.slice(at + 1);
  }
  fields.push(rest);
  return fields;
}

function decodeTypedKey(
  name: string,
  idHex: string,
  b64: string,
): { type: KeyType; key: Uint8Array; keyId: number } {
  if (!isValidKeyName(name)) throw malformed('invalid key name');
  if (!/^[0-9a-f]{8}$/.test(idHex)) throw malformed('key ID must be 8 lowercase hex digits');
  const raw = decodeBase64(b64);
  if (raw === undefined || raw.length !== 33) throw malformed('key must be base64 of 33 bytes');
  const type = raw[0];
  if (type !== ED25519 && type !== COSIGNATURE_V1)
    throw malformed(`unsupported key type 0x${type?.toString(16)}`);
  return { type, key: raw.subarray(1), keyId: Number.parseInt(idHex, 16) };
}

/** Parses `<name>+<hex id>+<base64(type ‖ pub)>`, checking the key ID as x/mod does. */
export function parseVerifierKey(text: string, impl?: Ed25519): Verifier {
  const f = splitKey(text, 3);
  if (!f) throw malformed('verifier key must be name+keyid+key');
  const [name, idHex, b64] = f as [string, string, string];
  const { type, key, keyId } = decodeTypedKey(name, idHex, b64);
  const v = verifierFromPublicKey(name, type, key, impl);
  if (v.keyId !== keyId) throw malformed('verifier key ID does not match name and key');
  return v;
}

/** Parses `PRIVATE+KEY+<name>+<hex id>+<base64(type ‖ seed)>`, checking the key ID. */
export function parseSignerKey(text: string, options: SignerOptions = {}): Signer {
  const f = splitKey(text, 5);
  if (f?.[0] !== 'PRIVATE' || f[1] !== 'KEY')
    throw malformed('signer key must be PRIVATE+KEY+name+keyid+key');
  const [, , name, idHex, b64] = f as [string, string, string, string, string];
  const { type, key, keyId } = decodeTypedKey(name, idHex, b64);
  const s = signerFromSeed(name, type, key, options);
  if (s.keyId !== keyId) throw malformed('signer key ID does not match name and key');
  return s;
}

export function formatSignerKey(name: string, type: KeyType, seed: Uint8Array): string {
  const s = signerFromSeed(name, type, seed);
  return `PRIVATE+KEY+${name}+${formatKeyId(s.keyId)}+${encodeBase64(concatBytes(new Uint8Array([type]), seed))}`;
}

/** A new key pair from the platform's CSPRNG (crypto.getRandomValues). */
export function generateKey(
  name: string,
  type: KeyType = ED25519,
): { signerKey: string; verifierKey: string } {
  const seed = crypto.getRandomValues(new Uint8Array(32));
  const signerKey = formatSignerKey(name, type, seed);
  return { signerKey, verifierKey: formatVerifierKey(signerFromSeed(name, type, seed)) };
}

export function verifierOf(signer: Signer, impl?: Ed25519): Verifier {
  return verifierFromPublicKey(signer.name, signer.type, signer.publicKey, impl);
}

// Ed25519 through node:crypto (OpenSSL) for the server and the Node client: measured here
// ~20× noble's verification speed, which bounded unary appends (the client checks one
// checkpoint signature per batch). Node-only, so it lives apart from src/note.
//
// OpenSSL verifies per RFC 8032 and refuses S ≥ L; the encodings of R and of the public key
// are checked for canonical form here first, as strict verification (noble's zip215: false,
// Go's crypto/ed25519) refuses y ≥ p.
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import type { Ed25519 } from './note/keys.js';

// DER wrappers of raw Ed25519 keys (RFC 8410): PKCS#8 for a seed, SPKI for a public key.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** A 32-byte point encoding whose y (the low 255 bits, little-endian) is at least p = 2^255 − 19. */
function nonCanonicalY(b: Uint8Array, at = 0): boolean {
  if ((b[at + 31]! & 0x7f) !== 0x7f) return false;
  for (let i = 30; i >= 1; i--) if (b[at + i] !== 0xff) return false;
  return b[at]! >= 0xed;
}

export const nodeEd25519: Ed25519 = {
  signer(seed) {
    const key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
    return (message) => {
      const s = sign(null, message, key);
      return new Uint8Array(s.buffer, s.byteOffset, s.length);
    };
  },
  verifier(publicKey) {
    const key = publicKeyObject(publicKey);
    return (signature, message) => {
      if (key === undefined || signature.length !== 64 || nonCanonicalY(signature)) return false;
      try {
        return verify(null, message, key, signature);
      } catch {
        return false;
      }
    };
  },
  // With a callback, crypto.verify runs in libuv's thread pool: a client checking one
  // checkpoint per batch (~90 µs here) keeps its event loop for the answers meanwhile.
  verifierAsync(publicKey) {
    const key = publicKeyObject(publicKey);
    return (signature, message) =>
      new Promise((resolve) => {
        if (key === undefined || signature.length !== 64 || nonCanonicalY(signature)) return resolve(false);
        try {
          verify(null, message, key, signature, (err, ok) => resolve(err === null && ok));
        } catch {
          resolve(false);
        }
      });
  },
};

/** The KeyObject of a raw public key, or undefined when it is not a canonical point encoding. */
function publicKeyObject(publicKey: Uint8Array): ReturnType<typeof createPublicKey> | undefined {
  if (nonCanonicalY(publicKey)) return undefined;
  try {
    return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
  } catch {
    return undefined; // not a point: nothing verifies under it
  }
}

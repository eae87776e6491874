// Strict, browser-safe encodings (no Buffer): standard padded base64 (RFC 4648 §4) that
// rejects every non-canonical form, and fatal UTF-8 decoding.

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
// Two base64 characters for every 12-bit value: receipts encode many 32-byte hashes, and this
// table-driven encoder measured several times faster than String.fromCharCode + btoa here.
const PAIRS: string[] = Array.from({ length: 4096 }, (_, v) => ALPHABET[v >> 6]! + ALPHABET[v & 63]!);

export function encodeBase64(bytes: Uint8Array): string {
  let s = '';
  const full = bytes.length - (bytes.length % 3);
  for (let i = 0; i < full; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    s += PAIRS[v >> 12]! + PAIRS[v & 0xfff]!;
  }
  if (bytes.length - full === 1) {
    const v = bytes[full]! << 4;
    s += `${PAIRS[v]!}==`;
  } else if (bytes.length - full === 2) {
    const v = (bytes[full]! << 10) | (bytes[full + 1]! << 2);
    s += `${PAIRS[v >> 6]!}${ALPHABET[v & 63]!}=`;
  }
  return s;
}

/** Each character code's 6-bit value, or −1 outside the alphabet ('=' included). */
const VALUES = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) VALUES[ALPHABET.charCodeAt(i)] = i;

const value = (text: string, i: number): number => {
  const c = text.charCodeAt(i);
  return c < 128 ? VALUES[c]! : -1;
};

/** Bytes that canonical base64 of this length and padding decodes to (−1: bad length). */
function decodedLength(text: string): number {
  if (text.length % 4 !== 0) return -1;
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  return (text.length / 4) * 3 - pad;
}

/**
 * Decodes canonical base64 only (padding required, unused bits zero); undefined otherwise.
 * Table-driven: a regex test, atob and a re-encode to check canonical form cost ~3× as much
 * per receipt hash, and receipts are parsed once per append on the client.
 */
export function decodeBase64(text: string): Uint8Array | undefined {
  const n = decodedLength(text);
  if (n < 0) return undefined;
  const out = new Uint8Array(n);
  return decodeBase64Into(text, out, 0) === n ? out : undefined;
}

/**
 * decodeBase64 into out at offset `at` (many hashes share one buffer: one allocation per
 * receipt instead of one per hash). Returns the bytes written, or −1 if not canonical or
 * if they do not fit.
 */
export function decodeBase64Into(text: string, out: Uint8Array, at: number): number {
  const n = decodedLength(text);
  if (n < 0 || at + n > out.length) return -1;
  const pad = (text.length / 4) * 3 - n;
  const full = pad === 0 ? text.length : text.length - 4;
  let o = at;
  for (let i = 0; i < full; i += 4) {
    const v =
      (value(text, i) << 18) | (value(text, i + 1) << 12) | (value(text, i + 2) << 6) | value(text, i + 3);
    if (v < 0) return -1; // a −1 sets the sign bit
    out[o++] = v >> 16;
    out[o++] = (v >> 8) & 0xff;
    out[o++] = v & 0xff;
  }
  if (pad > 0) {
    const a = value(text, full);
    const b = value(text, full + 1);
    if (a < 0 || b < 0) return -1;
    if (pad === 2) {
      if ((b & 0x0f) !== 0) return -1; // unused bits must be zero
      out[o++] = (a << 2) | (b >> 4);
    } else {
      const c = value(text, full + 2);
      if (c < 0 || (c & 0x03) !== 0) return -1;
      out[o++] = (a << 2) | (b >> 4);
      out[o++] = ((b & 0x0f) << 4) | (c >> 2);
    }
  }
  return o - at;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export const utf8 = (s: string): Uint8Array => encoder.encode(s);

export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Decimal without leading zeros (C2SP convention) within [0, max]; undefined otherwise. */
export function parseDecimal(text: string, max: bigint): bigint | undefined {
  if (!/^(?:0|[1-9][0-9]{0,19})$/.test(text)) return undefined;
  const n = BigInt(text);
  return n <= max ? n : undefined;
}

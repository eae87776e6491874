// Strict, browser-safe encodings (no Buffer): standard padded base64 (RFC 4648 §4) that
// rejects every non-canonical form, and fatal UTF-8 decoding.

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

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

/** Decodes canonical base64 only (padding required, unused bits zero); undefined otherwise. */
export function decodeBase64(text: string): Uint8Array | undefined {
  if (!B64.test(text)) return undefined;
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  // Non-zero unused bits in the last character decode fine but are not canonical.
  return encodeBase64(out) === text ? out : undefined;
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

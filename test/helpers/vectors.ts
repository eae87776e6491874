import { readFileSync } from 'node:fs';

export const vectors = JSON.parse(
  readFileSync(new URL('../data/go-sumdb-vectors.json', import.meta.url), 'utf8'),
) as GoVectors;

export const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));
export const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
export const toB64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

interface InclusionVector {
  size: number;
  index: number;
  leafHash: string;
  root: string;
  proof: string[];
}
interface ConsistencyVector {
  size1: number;
  size2: number;
  root1: string;
  root2: string;
  proof: string[];
}
interface TreeVectors {
  leaves: { index: number; dataHex: string; leafHash: string }[];
  roots: { size: number; root: string }[];
  inclusion: InclusionVector[];
  consistency: ConsistencyVector[];
}
export interface GoVectors {
  rfc6962Reference: TreeVectors;
  leafN: TreeVectors;
  note: Record<string, string | number>;
  tiles: {
    treeSize: number;
    hashTiles: { path: string; level: number; n: number; width: number; dataB64: string }[];
    entryBundles: { path: string; n: number; width: number; dataB64: string }[];
    pathExamples: { level: number; n: number; width: number; path: string }[];
  };
}

/** Every single-bit flip of a byte string. */
export function* bitFlips(b: Uint8Array): Generator<Uint8Array> {
  for (let i = 0; i < b.length * 8; i++) {
    const c = b.slice();
    c[i >> 3]! ^= 1 << (i & 7);
    yield c;
  }
}

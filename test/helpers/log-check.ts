// A full-log check (as Sunlight's tests do after every step): every entry is present, the
// leaf hashes rebuild the signed root, and every acknowledged append is where it was said to be.
import { expect } from 'vitest';
import { CompactRange, defaultHasher as H } from '../../src/merkle/index.js';
import { decodeUtf8, openCheckpoint, type Verifier } from '../../src/note/index.js';
import type { LogStore } from '../../src/storage/log-store.js';

export interface Acknowledged {
  index: bigint;
  leafHash: Uint8Array;
}

export async function checkFullLog(store: LogStore, verifier: Verifier, acked: Iterable<Acknowledged>) {
  const note = decodeUtf8((await store.latestCheckpoint())!)!;
  const { checkpoint } = openCheckpoint(note, [verifier]);
  const entries = await store.readEntries(0n, checkpoint.size);
  expect(BigInt(entries.length)).toBe(checkpoint.size);
  const leafHashes = entries.map((e) => H.leafHash(e));
  const range = new CompactRange(0n, [], H);
  for (const h of leafHashes) range.append(h);
  expect(range.rootHash()).toEqual(checkpoint.rootHash);
  for (const a of acked) {
    expect(a.index < checkpoint.size, `acknowledged index ${a.index} lost`).toBe(true);
    expect(leafHashes[Number(a.index)]).toEqual(a.leafHash);
  }
  return { checkpoint, leafHashes };
}

/** Records signed checkpoints and fails on two roots for one size or a shrinking tree. */
export class CheckpointHistory {
  readonly bySize = new Map<bigint, Uint8Array>();
  last: { size: bigint; rootHash: Uint8Array } | undefined;
  record(c: { size: bigint; rootHash: Uint8Array }, leafHashes?: Uint8Array[]) {
    const seen = this.bySize.get(c.size);
    if (seen) expect(seen, `two roots for size ${c.size}`).toEqual(c.rootHash);
    this.bySize.set(c.size, c.rootHash);
    if (this.last) {
      expect(c.size >= this.last.size, 'tree shrank').toBe(true);
      if (leafHashes) {
        // The previous checkpoint's tree must be a prefix of this one's.
        const r = new CompactRange(0n, [], H);
        for (const h of leafHashes.slice(0, Number(this.last.size))) r.append(h);
        expect(r.rootHash(), `size ${this.last.size} is not a prefix of size ${c.size}`).toEqual(
          this.last.rootHash,
        );
      }
    }
    this.last = c;
  }
}

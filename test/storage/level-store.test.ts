// LevelDB layout details the conformance suite cannot see: the dedup value's width, and rows
// written by earlier builds.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Level } from 'level';
import { afterEach, describe, expect, it } from 'vitest';
import { minimalUint, readUintBE } from '../../src/storage/keys.js';
import { LevelStore } from '../../src/storage/level-store.js';

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

describe('dedup values', () => {
  it('minimalUint keeps the fewest big-endian bytes, and readUintBE reads them back', () => {
    fc.assert(
      fc.property(u64, fc.nat(16), (n, at) => {
        const buf = new Uint8Array(at + 8);
        new DataView(buf.buffer).setBigUint64(at, n);
        const b = minimalUint(buf, at);
        expect(readUintBE(b)).toBe(n);
        expect(b.length).toBe(Math.max(1, Math.ceil(n.toString(2).length / 8)));
        if (b.length > 1) expect(b[0]).not.toBe(0);
      }),
    );
  });

  it('readUintBE reads 8-byte values with leading zeros (rows of earlier builds)', () => {
    fc.assert(
      fc.property(u64, (n) => {
        const b = new Uint8Array(8);
        new DataView(b.buffer).setBigUint64(0, n);
        expect(readUintBE(b)).toBe(n);
      }),
    );
  });

  it('readUintBE refuses empty and over-long values', () => {
    expect(readUintBE(new Uint8Array(0))).toBeUndefined();
    expect(readUintBE(new Uint8Array(9))).toBeUndefined();
  });
});

describe('LevelStore dedup rows on disk', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  const leafHash = (n: number) => new Uint8Array(32).fill(n);
  const dedupKey = (h: Uint8Array) => new Uint8Array([0x64, ...h]);

  async function withRaw(path: string, f: (db: Level<Uint8Array, Uint8Array>) => Promise<void>) {
    const db = new Level<Uint8Array, Uint8Array>(path, { keyEncoding: 'view', valueEncoding: 'view' });
    await db.open();
    await f(db);
    await db.close();
  }

  it('writes the index in as few bytes as hold it and still reads 8-byte rows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vellum-level-'));
    dirs.push(dir);
    const store = new LevelStore(dir, { durable: false });
    await store.open('o');
    const entries = Array.from({ length: 300 }, (_, i) => new Uint8Array([i & 255, i >> 8]));
    const leafHashes = entries.map((_, i) => {
      const h = new Uint8Array(32);
      new DataView(h.buffer).setUint32(0, i + 1);
      return h;
    });
    await store.commit({
      size1: 0n,
      size2: 300n,
      entries,
      leafHashes,
      tiles: [],
      checkpoint: new Uint8Array([1]),
    });
    await store.close();
    await withRaw(dir, async (db) => {
      expect([...(await db.get(dedupKey(leafHashes[5]!)))!]).toEqual([5]);
      expect([...(await db.get(dedupKey(leafHashes[299]!)))!]).toEqual([1, 43]);
      // A row as an earlier build wrote it, and a damaged one.
      await db.put(dedupKey(leafHash(0xaa)), new Uint8Array([0, 0, 0, 0, 0, 0, 1, 2]));
      await db.put(dedupKey(leafHash(0xbb)), new Uint8Array(9));
    });
    const reopened = new LevelStore(dir, { durable: false });
    await reopened.open('o');
    expect(
      await reopened.findLeafHashes([leafHashes[0]!, leafHashes[299]!, leafHash(0xaa), leafHash(1)]),
    ).toEqual([0n, 299n, 258n, undefined]);
    await expect(reopened.findLeafHashes([leafHash(0xbb)])).rejects.toMatchObject({ code: 'CORRUPT' });
    await reopened.close();
  });
});

// One conformance suite for every LogStore implementation (DESIGN §8.10).
import { afterEach, describe, expect, it } from 'vitest';
import type { IntegrationBatch } from '../../src/storage/log-store.js';
import { type StoreKind, storeKinds } from '../helpers/stores.js';
import { utf8 } from '../helpers/vectors.js';

const hash = (n: number) => new Uint8Array(32).fill(n);
const tile = (level: number, index: bigint, width: number, fill: number) => ({
  level,
  index,
  width,
  hashes: new Uint8Array(width * 32).fill(fill),
});

function batch(size1: bigint, n: number, extra: Partial<IntegrationBatch> = {}): IntegrationBatch {
  const entries = Array.from({ length: n }, (_, i) => utf8(`entry ${size1 + BigInt(i)}`));
  return {
    size1,
    size2: size1 + BigInt(n),
    entries,
    leafHashes: entries.map((_, i) => hash(Number(size1) + i + 1)),
    tiles: [],
    checkpoint: utf8(`checkpoint ${size1 + BigInt(n)}`),
    ...extra,
  };
}

describe.each(storeKinds)('LogStore conformance: $name', (kind: StoreKind) => {
  let made: ReturnType<StoreKind['create']>;
  afterEach(async () => {
    await made.store.close().catch(() => {});
    made.cleanup();
  });

  it('a new store is empty', async () => {
    made = kind.create();
    await made.store.open('o');
    expect(await made.store.latestCheckpoint()).toBeUndefined();
    expect(await made.store.readEntries(0n, 10n)).toEqual([]);
    expect(await made.store.findLeafHashes([hash(1)])).toEqual([undefined]);
    expect(await made.store.readTile({ level: 0, index: 0n }, 1)).toBeUndefined();
  });

  it('commits entries, dedup rows, tiles and checkpoints atomically and reads them back', async () => {
    made = kind.create();
    const s = made.store;
    await s.open('o');
    await s.commit(batch(0n, 0));
    await s.commit(batch(0n, 3, { tiles: [tile(0, 0n, 3, 7)] }));
    await s.commit(batch(3n, 2, { tiles: [tile(0, 0n, 5, 7)] }));
    expect((await s.readEntries(0n, 5n)).map((e) => new TextDecoder().decode(e))).toEqual([
      'entry 0',
      'entry 1',
      'entry 2',
      'entry 3',
      'entry 4',
    ]);
    expect(await s.readEntries(3n, 100n)).toHaveLength(2);
    expect(await s.findLeafHashes([hash(1), hash(5), hash(9)])).toEqual([0n, 4n, undefined]);
    expect(new TextDecoder().decode(await s.latestCheckpoint())).toBe('checkpoint 5');
    expect(new TextDecoder().decode(await s.checkpointCovering(0n))).toBe('checkpoint 3');
    expect(new TextDecoder().decode(await s.checkpointCovering(3n))).toBe('checkpoint 5');
    expect(await s.checkpointCovering(5n)).toBeUndefined();
    // The partial tile is replaced by its wider version.
    expect(await s.readTile({ level: 0, index: 0n }, 3)).toBeUndefined();
    expect(await s.readTile({ level: 0, index: 0n }, 5)).toHaveLength(160);
  });

  it('keeps full tiles and replaces partial ones per level', async () => {
    made = kind.create();
    const s = made.store;
    await s.open('o');
    await s.commit(batch(0n, 0));
    await s.commit(batch(0n, 1, { tiles: [tile(0, 0n, 1, 1)] }));
    await s.commit(batch(1n, 256, { tiles: [tile(0, 0n, 256, 2), tile(0, 1n, 1, 3), tile(1, 0n, 1, 4)] }));
    expect(await s.readTile({ level: 0, index: 0n }, 256)).toEqual(new Uint8Array(8192).fill(2));
    expect(await s.readTile({ level: 0, index: 1n }, 1)).toEqual(new Uint8Array(32).fill(3));
    expect(await s.readTile({ level: 1, index: 0n }, 1)).toEqual(new Uint8Array(32).fill(4));
    expect(await s.readTile({ level: 0, index: 0n }, 1)).toBeUndefined();
  });

  it('refuses a commit that does not start at the committed size', async () => {
    made = kind.create();
    const s = made.store;
    await s.open('o');
    await expect(s.commit(batch(1n, 1))).rejects.toMatchObject({ code: 'CORRUPT' });
    await s.commit(batch(0n, 2));
    await expect(s.commit(batch(1n, 1))).rejects.toMatchObject({ code: 'CORRUPT' });
    await expect(s.commit(batch(3n, 1))).rejects.toMatchObject({ code: 'CORRUPT' });
  });

  it('persists across reopening, and refuses another origin', async () => {
    made = kind.create();
    await made.store.open('o');
    await made.store.commit(batch(0n, 4));
    await made.store.close();
    const again = made.reopen();
    await expect(again.open('other')).rejects.toMatchObject({ code: 'CONFIG' });
    await again.close().catch(() => {});
    const third = made.reopen();
    await third.open('o');
    expect(await third.readEntries(0n, 4n)).toHaveLength(4);
    await third.commit(batch(4n, 1));
    expect(new TextDecoder().decode(await third.latestCheckpoint())).toBe('checkpoint 5');
    made.store = third;
  });
});

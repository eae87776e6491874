// TileCache reuses the buffers of tiles it drops (src/log/tile-cache.ts). These tests pin the
// two rules that make that safe: nodes leave a read tile as copies, and a dropped buffer is
// written again only from the next turn of the event loop.
import { describe, expect, it } from 'vitest';
import { TileCache } from '../../src/log/tile-cache.js';
import { defaultHasher as H } from '../../src/merkle/index.js';
import type { TileId } from '../../src/merkle/tiles.js';
import type { LogStore } from '../../src/storage/log-store.js';

/** A store whose tile N is 256 hashes filled with byte N+1, written into `into` at once. */
function fakeStore() {
  const intos: (Uint8Array | undefined)[] = [];
  const store = {
    readTile: async (tile: TileId, width: number, into?: Uint8Array) => {
      intos.push(into);
      const out = into === undefined ? new Uint8Array(width * 32) : into.subarray(0, width * 32);
      out.fill(Number(tile.index) + 1);
      return out;
    },
  } as unknown as LogStore;
  return { store, intos };
}

const tile = (index: number): TileId => ({ level: 0, index: BigInt(index) });
const nextTurn = () => new Promise((r) => setImmediate(r));

describe('TileCache', () => {
  it('hands out copies of a read tile’s nodes, which outlive the reuse of its buffer', async () => {
    const { store, intos } = fakeStore();
    const cache = new TileCache(store, H, 1);
    const a = await cache.load(tile(0));
    const leaf = a.node(0, 5)!;
    const inner = a.node(3, 2)!;
    const innerBefore = inner.slice();
    // The expansion is right: a node of row 1 is the hash of its two leaves.
    const one = new Uint8Array(32).fill(1);
    expect(a.node(1, 0)).toEqual(H.nodeHash(one, one));
    await cache.load(tile(1)); // drops tile 0
    await nextTurn();
    await cache.load(tile(2)); // reads into tile 0's buffer
    expect(intos[2]!.buffer).toBe(a.storage.buffer);
    expect(leaf).toEqual(one);
    expect(inner).toEqual(innerBefore);
  });

  it('does not read into a buffer dropped in the same turn, and does from the next turn', async () => {
    const { store, intos } = fakeStore();
    const cache = new TileCache(store, H, 0); // every tile is dropped as soon as it is read
    const x = await cache.load(tile(7));
    const y = await cache.load(tile(8)); // same turn as x's drop
    expect(intos[1]!.buffer).not.toBe(x.storage.buffer);
    expect(x.node(0, 0)).toEqual(new Uint8Array(32).fill(8));
    await nextTurn();
    await cache.load(tile(9));
    expect([x.storage.buffer, y.storage.buffer]).toContain(intos[2]!.buffer);
  });

  it('keeps committed tiles it did not read (views of them are in receipts) out of reuse', async () => {
    const { store, intos } = fakeStore();
    const cache = new TileCache(store, H, 1);
    const { ExpandedTile } = await import('../../src/log/expanded-tile.js');
    const committed = ExpandedTile.fromBytes(tile(3), new Uint8Array(8192).fill(4), H);
    cache.add(committed);
    await cache.load(tile(4)); // drops the committed tile
    await nextTurn();
    await cache.load(tile(5));
    expect(intos[1]!.buffer).not.toBe(committed.storage.buffer);
    expect(committed.node(0, 0)).toEqual(new Uint8Array(32).fill(4));
  });

  it('reads at most 16 tiles at once and queues the rest', async () => {
    let inFlight = 0;
    let most = 0;
    const store = {
      readTile: async (_t: TileId, width: number) => {
        most = Math.max(most, ++inFlight);
        await nextTurn();
        inFlight--;
        return new Uint8Array(width * 32);
      },
    } as unknown as LogStore;
    const cache = new TileCache(store, H, 4);
    const tiles = await Promise.all(Array.from({ length: 100 }, (_, i) => cache.load(tile(i))));
    expect(tiles.map((t) => t.id.index)).toEqual(Array.from({ length: 100 }, (_, i) => BigInt(i)));
    expect(most).toBe(16);
  });
});

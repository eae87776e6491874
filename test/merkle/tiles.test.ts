import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CompactRange,
  formatTilePath,
  fullTilesOnPath,
  defaultHasher as H,
  inclusionPlan,
  nodeFromTile,
  parseTilePath,
  planNodes,
  rightEdgeTiles,
  tileSlot,
  tileWidth,
} from '../../src/merkle/index.js';
import { naiveRoot } from '../helpers/naive.js';
import { b64, toB64, utf8, vectors } from '../helpers/vectors.js';

describe('tiles (c2sp.org/tlog-tiles, height 8)', () => {
  it('formats and parses the Go path examples', () => {
    for (const e of vectors.tiles.pathExamples) {
      const path = formatTilePath(
        e.level < 0 ? 'entries' : { level: e.level, index: BigInt(e.n) },
        BigInt(e.n),
        e.width,
      );
      expect(path).toBe(e.path);
      expect(parseTilePath(path)).toEqual({
        level: e.level < 0 ? 'entries' : e.level,
        index: BigInt(e.n),
        width: e.width,
      });
    }
  });

  it('format(parse(path)) === path for every canonical path; non-canonical ones are refused', () => {
    fc.assert(
      fc.property(
        fc.nat(63),
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        fc.integer({ min: 1, max: 256 }),
        (l, n, w) => {
          const path = formatTilePath({ level: l, index: n }, n, w);
          const parsed = parseTilePath(path);
          expect(parsed).toEqual({ level: l, index: n, width: w });
        },
      ),
    );
    for (const bad of [
      'tile/0/1',
      'tile/0/x000/001',
      'tile/0/001.p/256',
      'tile/0/001.p/0',
      'tile/00/001',
      'tile/64/000',
      'tile/0/001.p/07',
    ]) {
      expect(parseTilePath(bad)).toBeUndefined();
    }
  });

  it('builds the same hash tiles as Go for the leaf-0..leaf-299 tree', () => {
    const leafHashes = Array.from({ length: 300 }, (_, i) => H.leafHash(utf8(`leaf-${i}`)));
    const tiles = new Map<string, Uint8Array[]>();
    const range = new CompactRange(0n, [], H);
    for (const l of leafHashes) {
      range.append(l, (level, index, h) => {
        if (level % 8 !== 0) return;
        const key = `${level / 8}/${index >> 8n}`;
        tiles.set(key, [...(tiles.get(key) ?? []), h]);
      });
    }
    const edge = rightEdgeTiles(300n);
    expect(edge.map((t) => formatTilePath(t.tile, t.tile.index, t.width))).toEqual([
      'tile/0/001.p/44',
      'tile/1/000.p/1',
    ]);
    for (const t of vectors.tiles.hashTiles) {
      const data = b64(t.dataB64);
      const ours = tiles.get(`${t.level}/${t.n}`)!;
      expect(ours.length).toBe(tileWidth({ level: t.level, index: BigInt(t.n) }, 300n));
      expect(toB64(Buffer.concat(ours))).toBe(toB64(data));
    }
  });

  it('every node is recomputed from its tile slot', () => {
    const leafHashes = Array.from({ length: 600 }, (_, i) => H.leafHash(utf8(`n${i}`)));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 9 }), fc.nat(599), (level, at) => {
        const index = BigInt(at >> level);
        fc.pre((Number(index) + 1) << level <= 600);
        const slot = tileSlot({ level, index });
        expect(slot.tile.level).toBe(level >= 8 ? 1 : 0);
        const tileLeaves =
          slot.tile.level === 0
            ? leafHashes.slice(Number(slot.tile.index) * 256, Number(slot.tile.index) * 256 + 256)
            : [naiveRoot(leafHashes.slice(0, 256)), naiveRoot(leafHashes.slice(256, 512))];
        const start = Number(index) << level;
        expect(nodeFromTile(tileLeaves, slot, H)).toEqual(
          naiveRoot(leafHashes.slice(start, start + (1 << level))),
        );
      }),
    );
  });

  it('fullTilesOnPath: full tiles holding the leaf, and every full tile its proof reads', () => {
    // Sizes at tile ends too, where the last tile just became full.
    const sizes = fc.oneof(
      fc.bigInt({ min: 1n, max: 1n << 20n }),
      fc.bigInt({ min: 1n, max: 1n << 62n }),
      fc.integer({ min: 1, max: 4096 }).map((k) => BigInt(k) << 8n),
      fc.integer({ min: 1, max: 300 }).map((k) => BigInt(k) << 16n),
    );
    fc.assert(
      fc.property(
        sizes.chain((size) => fc.tuple(fc.constant(size), fc.bigInt({ min: 0n, max: size - 1n }))),
        ([size, index]) => {
          const tiles = fullTilesOnPath(index, size);
          const key = (t: { level: number; index: bigint }) => `${t.level}/${t.index}`;
          tiles.forEach((t, i) => {
            expect(t.level).toBe(i);
            expect(tileWidth(t, size)).toBe(256);
            // The tile's leaves include the index.
            const leaves = 1n << BigInt(8 * (t.level + 1));
            expect(index / leaves).toBe(t.index);
          });
          const read = planNodes(inclusionPlan(index, size))
            .map((n) => tileSlot(n).tile)
            .filter((t) => tileWidth(t, size) === 256);
          const got = new Set(tiles.map(key));
          for (const t of read) expect(got.has(key(t))).toBe(true);
        },
      ),
    );
  });
});

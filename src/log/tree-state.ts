// The in-memory right edge of the tree: the compact range (for the root) and the partial tile
// of every level (for proofs). Immutable once built: extend() returns a new state, so readers
// holding the old one never see uncommitted hashes, and a failed commit leaves nothing behind.
import { VellumError } from '../error.js';
import { CompactRange } from '../merkle/compact-range.js';
import type { TreeHasher } from '../merkle/hash.js';
import { rightEdgeTiles, TILE_HEIGHT, type TileId, type TileSlot, tileSlot } from '../merkle/tiles.js';
import type { TileData } from '../storage/log-store.js';
import { ExpandedTile } from './expanded-tile.js';

export interface Extension {
  readonly state: TreeState;
  /** Every tile the new leaves changed, at its new width: what the commit writes. */
  readonly tiles: readonly TileData[];
  /** Tiles that became full: hot, worth caching. */
  readonly completed: readonly ExpandedTile[];
}

const tileName = (t: TileId) => `${t.level}/${t.index}`;

export class TreeState {
  private constructor(
    readonly range: CompactRange,
    /** The partial tile of each level, by level. */
    readonly edge: ReadonlyMap<number, ExpandedTile>,
  ) {}

  get size(): bigint {
    return this.range.size;
  }

  static empty(hasher: TreeHasher): TreeState {
    return new TreeState(new CompactRange(0n, [], hasher), new Map());
  }

  /**
   * Rebuilds the right edge of a tree of `size` from its partial tiles (at most one per level,
   * so opening costs the same at any size).
   */
  static async restore(
    size: bigint,
    readTile: (tile: TileId, width: number) => Promise<Uint8Array | undefined>,
    hasher: TreeHasher,
  ): Promise<TreeState> {
    const edge = new Map<number, ExpandedTile>();
    for (const { tile, width } of rightEdgeTiles(size)) {
      const bytes = await readTile(tile, width);
      if (bytes === undefined || bytes.length !== width * 32) {
        throw new VellumError(
          'CORRUPT',
          `right-edge tile ${tile.level}/${tile.index} width ${width} is missing`,
        );
      }
      edge.set(tile.level, ExpandedTile.fromBytes(tile, bytes, hasher));
    }
    // Each peak of size's binary decomposition lies in the partial tile of its level.
    const peaks: Uint8Array[] = [];
    let start = 0n;
    for (const level of CompactRange.peakLevels(size)) {
      const slot = tileSlot({ level, index: start >> BigInt(level) });
      const h = edge.get(slot.tile.level)?.nodeAt(slot);
      if (h === undefined)
        throw new VellumError('CORRUPT', `peak at level ${level} not in the right-edge tiles`);
      peaks.push(h);
      start += 1n << BigInt(level);
    }
    return new TreeState(new CompactRange(size, peaks, hasher), edge);
  }

  /** A node from the right edge, or undefined if it lies in a full tile (read it from storage). */
  edgeNode(slot: TileSlot): Uint8Array | undefined {
    const tile = this.edge.get(slot.tile.level);
    return tile !== undefined && tile.id.index === slot.tile.index ? tile.nodeAt(slot) : undefined;
  }

  extend(leafHashes: readonly Uint8Array[]): Extension {
    const range = this.range.clone();
    const touched = new Map<string, ExpandedTile>();
    const tileFor = (id: TileId): ExpandedTile => {
      const name = tileName(id);
      let t = touched.get(name);
      if (t === undefined) {
        const old = this.edge.get(id.level);
        t = old !== undefined && old.id.index === id.index ? old.clone() : new ExpandedTile(id);
        touched.set(name, t);
      }
      return t;
    };
    // The compact range hands us every node it creates: the tiles fill with no extra hashing.
    // Nodes arrive left to right, so each tile level keeps its current tile at hand: looking
    // it up by name per node made a string and a tile id per node.
    const current: (ExpandedTile | undefined)[] = [];
    const currentIndex: (number | bigint)[] = [];
    const visit = (level: number, index: number | bigint, hash: Uint8Array) => {
      const j = level % TILE_HEIGHT;
      const tileLevel = (level - j) / TILE_HEIGHT;
      // The node's first leaf in row 0 units is index·2^j; its tile holds 256 of them.
      const tileIndex =
        typeof index === 'number'
          ? Math.floor(index / 2 ** (TILE_HEIGHT - j))
          : (index << BigInt(j)) >> BigInt(TILE_HEIGHT);
      let tile = current[tileLevel];
      if (tile === undefined || currentIndex[tileLevel] !== tileIndex) {
        tile = tileFor({ level: tileLevel, index: BigInt(tileIndex) });
        current[tileLevel] = tile;
        currentIndex[tileLevel] = tileIndex;
      }
      tile.push(j, hash);
    };
    range.appendAll(leafHashes, visit);

    const edge = new Map<number, ExpandedTile>();
    for (const { tile } of rightEdgeTiles(range.size)) {
      const t = touched.get(tileName(tile)) ?? this.edge.get(tile.level);
      if (t === undefined || t.id.index !== tile.index)
        throw new Error('assertion failed: right edge tile missing');
      edge.set(tile.level, t);
    }
    const all = [...touched.values()];
    return {
      state: new TreeState(range, edge),
      tiles: all.map((t) => ({ level: t.id.level, index: t.id.index, width: t.width, hashes: t.bytes() })),
      completed: all.filter((t) => t.width === 256),
    };
  }
}

// Full tiles, expanded, in an LRU: a full tile never changes, so a cached copy is always right.
import { VellumError } from '../error.js';
import type { TreeHasher } from '../merkle/hash.js';
import type { TileId } from '../merkle/tiles.js';
import type { LogStore } from '../storage/log-store.js';
import { ExpandedTile } from './expanded-tile.js';

// Numeric keys while the index is small enough (always, below 2^46 tiles): building a string
// from a bigint for every node read was a measurable share of receipt building.
const tileName = (t: TileId): number | string =>
  t.index < 0x400000000000n ? Number(t.index) * 64 + t.level : `${t.level}/${t.index}`;

export class TileCache {
  readonly #tiles = new Map<number | string, ExpandedTile>();
  readonly #loading = new Map<number | string, Promise<ExpandedTile>>();

  constructor(
    private readonly store: LogStore,
    private readonly hasher: TreeHasher,
    /** Each expanded tile holds 510 hashes (~16 KiB). */
    private readonly capacity: number,
  ) {}

  /** peek() for a tile named by numbers (level, index < 2^46): the append hot path. */
  peekNumber(level: number, index: number): ExpandedTile | undefined {
    return this.#tiles.get(index * 64 + level);
  }

  /**
   * A cached tile, or undefined. Eviction is by insertion order (FIFO): re-inserting on every
   * read cost more than the misses it saved, since hot tiles are re-added when reloaded.
   */
  peek(tile: TileId): ExpandedTile | undefined {
    return this.#tiles.get(tileName(tile));
  }

  add(tile: ExpandedTile): void {
    const name = tileName(tile.id);
    this.#tiles.delete(name);
    this.#tiles.set(name, tile);
    while (this.#tiles.size > this.capacity) this.#tiles.delete(this.#tiles.keys().next().value!);
  }

  /** Loads a full tile from the store (concurrent loads of one tile share a read). */
  async load(tile: TileId): Promise<ExpandedTile> {
    const cached = this.peek(tile);
    if (cached !== undefined) return cached;
    const name = tileName(tile);
    let p = this.#loading.get(name);
    if (p === undefined) {
      p = (async () => {
        const bytes = await this.store.readTile(tile, 256);
        if (bytes === undefined || bytes.length !== 256 * 32) {
          throw new VellumError('CORRUPT', `full tile ${tile.level}/${tile.index} is missing from the store`);
        }
        const t = ExpandedTile.fromBytes(tile, bytes, this.hasher);
        this.add(t);
        return t;
      })().finally(() => this.#loading.delete(name));
      this.#loading.set(name, p);
    }
    return p;
  }
}

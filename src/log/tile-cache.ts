// Full tiles, expanded, in a FIFO cache: a full tile never changes, so a cached copy is always
// right.
//
// Tiles the cache reads itself hand out copies of their nodes, so when one is dropped its 16 KiB
// buffer is reused for the next tile read instead of left to the garbage collector: a server
// proving random entries of a 10M-entry log misses on most reads, and the dropped buffers were
// ~80 MB of its RSS waiting for a full GC. Reuse is safe because nobody holds a view into such a
// buffer, and a dropped buffer becomes spare only on the next turn of the event loop (a
// threadpool read may write into a spare at once): every reader reads a tile in the microtask
// turn its load settled in (see TransparencyLog#readNodes), and peek() no longer finds it.
import { VellumError } from '../error.js';
import { HASH_SIZE, type TreeHasher } from '../merkle/hash.js';
import { TILE_WIDTH, type TileId } from '../merkle/tiles.js';
import type { LogStore } from '../storage/log-store.js';
import { ExpandedTile } from './expanded-tile.js';

// Numeric keys while the index is small enough (always, below 2^46 tiles): building a string
// from a bigint for every node read was a measurable share of receipt building.
const tileName = (t: TileId): number | string =>
  t.index < 0x400000000000n ? Number(t.index) * 64 + t.level : `${t.level}/${t.index}`;

const TILE_BYTES = TILE_WIDTH * HASH_SIZE;
/**
 * Tile reads in flight at once. A batched proof request of 1,000 random entries of a large log
 * misses on most of them: reading them all at once held 1,000 fresh buffers; the thread pool
 * that serves the reads has four threads anyway.
 */
const MAX_READS = 16;
/** Spare buffers kept for reads: more than the reads in flight. */
const MAX_SPARE = 64;

export class TileCache {
  readonly #tiles = new Map<number | string, ExpandedTile>();
  readonly #loading = new Map<number | string, Promise<ExpandedTile>>();
  /** Buffers of dropped tiles the cache read itself, for the next reads. */
  readonly #spare: Uint8Array[] = [];
  /** Dropped this turn: spare from the next one. */
  readonly #dropped: Uint8Array[] = [];
  /** Reads in flight, and loads waiting for a turn. */
  #reads = 0;
  readonly #queue: (() => void)[] = [];

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
    while (this.#tiles.size > this.capacity) {
      const [oldest, dropped] = this.#tiles.entries().next().value!;
      this.#tiles.delete(oldest);
      if (dropped.copiesOut) this.#drop(dropped.storage);
    }
  }

  #drop(buffer: Uint8Array): void {
    if (this.#dropped.push(buffer) > 1) return;
    setImmediate(() => {
      // Reads take spares as fast as their tiles drop others; beyond MAX_SPARE (e.g. when
      // committed tiles push read ones out) a buffer is left to the garbage collector.
      for (const b of this.#dropped.splice(0)) if (this.#spare.length < MAX_SPARE) this.#spare.push(b);
    }).unref();
  }

  /**
   * Loads a full tile from the store (concurrent loads of one tile share a read). Read its
   * nodes as soon as the promise settles: once dropped, its buffer may be reused by the next read.
   */
  async load(tile: TileId): Promise<ExpandedTile> {
    const cached = this.peek(tile);
    if (cached !== undefined) return cached;
    const name = tileName(tile);
    let p = this.#loading.get(name);
    if (p === undefined) {
      p = (async () => {
        await this.#turn();
        try {
          return await this.#read(tile);
        } finally {
          this.#endTurn();
        }
      })().finally(() => this.#loading.delete(name));
      this.#loading.set(name, p);
    }
    return p;
  }

  /** Waits until fewer than MAX_READS reads are in flight. */
  #turn(): Promise<void> | undefined {
    if (this.#reads < MAX_READS) {
      this.#reads++;
      return undefined;
    }
    return new Promise((resolve) => this.#queue.push(resolve));
  }

  #endTurn(): void {
    const next = this.#queue.shift();
    if (next !== undefined) next();
    else this.#reads--;
  }

  async #read(tile: TileId): Promise<ExpandedTile> {
    const nodes = this.#spare.pop() ?? new Uint8Array(ExpandedTile.BYTES);
    const row0 = nodes.subarray(0, TILE_BYTES);
    let bytes: Uint8Array | undefined;
    try {
      bytes = await this.store.readTile(tile, TILE_WIDTH, row0);
    } catch (e) {
      this.#spare.push(nodes);
      throw e;
    }
    if (bytes === undefined || bytes.length !== TILE_BYTES) {
      this.#spare.push(nodes);
      throw new VellumError('CORRUPT', `full tile ${tile.level}/${tile.index} is missing from the store`);
    }
    // A store may read into row 0 or hand back bytes of its own.
    if (bytes.buffer !== row0.buffer || bytes.byteOffset !== row0.byteOffset) row0.set(bytes);
    const t = ExpandedTile.expand(tile, nodes, TILE_WIDTH, this.hasher, true);
    this.add(t);
    return t;
  }
}

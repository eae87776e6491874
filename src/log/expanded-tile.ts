// A hash tile with every node inside it: row 0 holds the tile's hashes (tree level 8·L),
// row j the complete nodes of level 8·L + j. Proofs then read any node of the tile without
// rehashing; expanding a full tile costs 255 node hashes once.
//
// All rows share one buffer (a full tile: 510 hashes in 16 KiB). Keeping every hash as its own
// Uint8Array cost ~10× the memory, and views into node:crypto's pooled buffers pinned whole
// 8 KiB slabs: a 213k-entry server measured 529 MB RSS that way.
import type { TreeHasher } from '../merkle/hash.js';
import { HASH_SIZE } from '../merkle/hash.js';
import { TILE_HEIGHT, TILE_WIDTH, type TileId, type TileSlot } from '../merkle/tiles.js';

/** Hashes in a full tile's rows 0 … 7: 256 + 128 + … + 2 (the tile's root is a node above it). */
const NODES = 2 * TILE_WIDTH - 2;

/** Where row j starts, in hashes: after rows 0 … j−1, which hold 512 − (512 >> j). */
const ROW_START = Array.from({ length: TILE_HEIGHT }, (_, j) => 2 * TILE_WIDTH - ((2 * TILE_WIDTH) >> j));

export class ExpandedTile {
  /** Bytes of a full tile's rows 0 … 7. */
  static readonly BYTES = NODES * HASH_SIZE;

  /** Every row in one buffer (one allocation per tile, not one per row). */
  readonly #nodes: Uint8Array;
  /** rows[j] is a view with room for 256 >> j hashes; counts[j] of them are set. */
  readonly #rows: Uint8Array[];
  readonly #counts: number[];
  /** id.index as a number when it is safe, for fast comparisons on the hot path. */
  readonly indexNumber: number;
  /**
   * True when node() hands out copies: the tile's buffer may then be reused for another tile
   * once the tile is dropped (the tile cache does this), and no caller holds a view into it.
   */
  readonly copiesOut: boolean;

  constructor(
    readonly id: TileId,
    nodes?: Uint8Array,
    counts?: number[],
    copiesOut = false,
  ) {
    this.#nodes = nodes ?? new Uint8Array(ExpandedTile.BYTES);
    this.#rows = ROW_START.map((start, j) =>
      this.#nodes.subarray(start * HASH_SIZE, (start + (TILE_WIDTH >> j)) * HASH_SIZE),
    );
    this.#counts = counts ?? new Array<number>(TILE_HEIGHT).fill(0);
    this.indexNumber = id.index <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(id.index) : -1;
    this.copiesOut = copiesOut;
  }

  get width(): number {
    return this.#counts[0]!;
  }

  /** The buffer holding every row (for reuse by whoever owns a copiesOut tile). */
  get storage(): Uint8Array {
    return this.#nodes;
  }

  static fromBytes(id: TileId, bytes: Uint8Array, hasher: TreeHasher): ExpandedTile {
    const nodes = new Uint8Array(ExpandedTile.BYTES);
    nodes.set(bytes);
    return ExpandedTile.expand(id, nodes, bytes.length / HASH_SIZE, hasher, false);
  }

  /**
   * Expands a tile in place: `nodes` (BYTES long) already holds the tile's `width` hashes at
   * its start (row 0); rows 1 … 7 are hashed into the rest of it.
   */
  static expand(
    id: TileId,
    nodes: Uint8Array,
    width: number,
    hasher: TreeHasher,
    copiesOut: boolean,
  ): ExpandedTile {
    const t = new ExpandedTile(id, nodes, undefined, copiesOut);
    t.#counts[0] = width;
    for (let j = 1; j < TILE_HEIGHT; j++) {
      const below = t.#rows[j - 1]!;
      const n = t.#counts[j - 1]! >> 1;
      for (let i = 0; i < n; i++) t.push(j, hasher.nodeHashOfPair(below, 2 * i * HASH_SIZE));
    }
    return t;
  }

  /** Appends the next node of row j (nodes arrive left to right). */
  push(j: number, hash: Uint8Array): void {
    const n = this.#counts[j]!;
    this.#rows[j]!.set(hash, n * HASH_SIZE);
    this.#counts[j] = n + 1;
  }

  /** Node i of row j (a view, or a copy for a copiesOut tile); undefined if not (yet) complete. */
  node(j: number, i: number): Uint8Array | undefined {
    if (i >= this.#counts[j]!) return undefined;
    const row = this.#rows[j]!;
    return this.copiesOut
      ? row.slice(i * HASH_SIZE, (i + 1) * HASH_SIZE)
      : row.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE);
  }

  /** The node a slot names, or undefined if the tile does not hold it (yet). */
  nodeAt(slot: TileSlot): Uint8Array | undefined {
    return this.node(slot.subLevel, slot.offset >> slot.subLevel);
  }

  /** tlog-tiles content: the row-0 hashes, copied. */
  bytes(): Uint8Array {
    return this.#rows[0]!.slice(0, this.#counts[0]! * HASH_SIZE);
  }

  clone(): ExpandedTile {
    return new ExpandedTile(this.id, this.#nodes.slice(), [...this.#counts], this.copiesOut);
  }
}

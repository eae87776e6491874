// A hash tile with every node inside it: rows[0] holds the tile's hashes (tree level 8·L),
// rows[j] the complete nodes of level 8·L + j. Proofs then read any node of the tile without
// rehashing; expanding a full tile costs 255 node hashes once.
import type { TreeHasher } from '../merkle/hash.js';
import { HASH_SIZE } from '../merkle/hash.js';
import { TILE_HEIGHT, type TileId, type TileSlot } from '../merkle/tiles.js';

export class ExpandedTile {
  constructor(
    readonly id: TileId,
    readonly rows: Uint8Array[][] = Array.from({ length: TILE_HEIGHT }, () => []),
  ) {}

  get width(): number {
    return this.rows[0]!.length;
  }

  static fromBytes(id: TileId, bytes: Uint8Array, hasher: TreeHasher): ExpandedTile {
    const row0: Uint8Array[] = [];
    for (let at = 0; at < bytes.length; at += HASH_SIZE) row0.push(bytes.subarray(at, at + HASH_SIZE));
    const rows = [row0];
    for (let j = 1; j < TILE_HEIGHT; j++) {
      const below = rows[j - 1]!;
      const row: Uint8Array[] = [];
      for (let i = 0; i + 1 < below.length; i += 2) row.push(hasher.nodeHash(below[i]!, below[i + 1]!));
      rows.push(row);
    }
    return new ExpandedTile(id, rows);
  }

  /** The node a slot names, or undefined if the tile does not hold it (yet). */
  nodeAt(slot: TileSlot): Uint8Array | undefined {
    return this.rows[slot.subLevel]?.[slot.offset >> slot.subLevel];
  }

  /** tlog-tiles content: the row-0 hashes concatenated. */
  bytes(): Uint8Array {
    const row = this.rows[0]!;
    const out = new Uint8Array(row.length * HASH_SIZE);
    for (const [i, h] of row.entries()) out.set(h, i * HASH_SIZE);
    return out;
  }

  clone(): ExpandedTile {
    return new ExpandedTile(
      this.id,
      this.rows.map((r) => r.slice()),
    );
  }
}

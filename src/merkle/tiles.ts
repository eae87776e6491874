// Tile geometry of c2sp.org/tlog-tiles with height 8 (spec digest §6): tile (L, N) holds the
// hashes of level 8·L with indexes N·256 … N·256+255; levels 8L+1 … 8L+7 are recomputed
// from it. A partial tile (the right edge) holds fewer than 256 and is rewritten as it fills.
import type { TreeHasher } from './hash.js';
import type { NodeId } from './proof-plan.js';

export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 256;

export interface TileId {
  /** Tile level L: holds tree level 8·L. */
  readonly level: number;
  readonly index: bigint;
}

/** Where a tree node lives: the tile, and the run of that tile's hashes that fold into it. */
export interface TileSlot {
  readonly tile: TileId;
  /** First hash of the run inside the tile. */
  readonly offset: number;
  /** Sub-level inside the tile: the run is 2^subLevel hashes long. */
  readonly subLevel: number;
}

export function tileSlot(node: NodeId): TileSlot {
  const level = Math.floor(node.level / TILE_HEIGHT);
  const subLevel = node.level % TILE_HEIGHT;
  const first = node.index << BigInt(subLevel); // index at tree level 8·level
  return {
    tile: { level, index: first >> 8n },
    offset: Number(first & 0xffn),
    subLevel,
  };
}

/** How many hashes tile (level, index) holds in a tree of `size` leaves: 0 … 256. */
export function tileWidth(tile: TileId, size: bigint): number {
  const complete = size >> BigInt(TILE_HEIGHT * tile.level); // complete nodes at level 8·L
  const w = complete - tile.index * 256n;
  if (w <= 0n) return 0;
  return w >= 256n ? 256 : Number(w);
}

/**
 * The full tiles on the inclusion path of leaf `index` in a tree of `size`, lowest level first:
 * tile N of level L holds the nodes over leaves [N·256^(L+1), (N+1)·256^(L+1)), and a node's
 * sibling is always in its tile. Tiles that are not full are the right edge.
 */
export function fullTilesOnPath(index: bigint, size: bigint): TileId[] {
  const out: TileId[] = [];
  for (let level = 0; ; level++) {
    const shift = BigInt(TILE_HEIGHT * (level + 1));
    const n = index >> shift;
    if ((n + 1n) << shift > size) return out;
    out.push({ level, index: n });
  }
}

/** The node a slot names, from its tile's hashes (pairwise folding, 2^subLevel − 1 hashes). */
export function nodeFromTile(hashes: readonly Uint8Array[], slot: TileSlot, hasher: TreeHasher): Uint8Array {
  const n = 1 << slot.subLevel;
  let row = hashes.slice(slot.offset, slot.offset + n);
  if (row.length !== n)
    throw new Error(`assertion failed: tile too narrow for node at offset ${slot.offset}`);
  while (row.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < row.length; i += 2) next.push(hasher.nodeHash(row[i]!, row[i + 1]!));
    row = next;
  }
  return row[0]!;
}

/** The tiles (with their widths) that a tree of `size` has, right edge included (spec §6.3). */
export function rightEdgeTiles(size: bigint): { tile: TileId; width: number }[] {
  const out: { tile: TileId; width: number }[] = [];
  for (let level = 0; size >> BigInt(TILE_HEIGHT * level) > 0n; level++) {
    const complete = size >> BigInt(TILE_HEIGHT * level);
    const width = Number(complete & 0xffn);
    if (width > 0) out.push({ tile: { level, index: complete >> 8n }, width });
  }
  return out;
}

// Paths (spec digest §6.1): tile/<L>/<N>[.p/<W>] with N in x-prefixed groups of 3 digits.

export function formatTileIndex(index: bigint): string {
  let s = (index % 1000n).toString().padStart(3, '0');
  for (let n = index / 1000n; n > 0n; n /= 1000n) s = `x${(n % 1000n).toString().padStart(3, '0')}/${s}`;
  return s;
}

export function formatTilePath(tile: TileId | 'entries', index: bigint, width: number): string {
  const head = tile === 'entries' ? 'tile/entries' : `tile/${tile.level}`;
  const suffix = width === TILE_WIDTH ? '' : `.p/${width}`;
  return `${head}/${formatTileIndex(index)}${suffix}`;
}

export interface ParsedTilePath {
  /** A hash tile's level, or 'entries' for an entry bundle. */
  readonly level: number | 'entries';
  readonly index: bigint;
  readonly width: number;
}

const TILE_PATH = /^tile\/(entries|0|[1-9][0-9]?)\/((?:x[0-9]{3}\/)*)([0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/;

/** Parses a tlog-tiles path strictly; returns undefined for anything not canonical. */
export function parseTilePath(path: string): ParsedTilePath | undefined {
  const m = TILE_PATH.exec(path);
  if (!m) return undefined;
  const level = m[1] === 'entries' ? 'entries' : Number(m[1]);
  if (level !== 'entries' && level > 63) return undefined;
  const groups = (m[2] ?? '').split('/').filter(Boolean);
  if (groups[0] === 'x000') return undefined; // leading zero group is not canonical
  let index = 0n;
  for (const g of [...groups.map((x) => x.slice(1)), m[3]!]) index = index * 1000n + BigInt(g);
  const width = m[4] === undefined ? TILE_WIDTH : Number(m[4]);
  if (m[4] !== undefined && width >= TILE_WIDTH) return undefined; // a full tile has no .p/ suffix
  if (index >= 1n << 64n) return undefined;
  return { level, index, width };
}

// Fixed-width big-endian keys, so LevelDB's byte order is numeric order (DESIGN §2).
//
// Entries are keyed by index, checkpoints by size, and tiles by the leaf index their content
// ends at (then the level): every integration batch therefore writes past the end of each
// key space instead of into one range per tree level. LevelDB has one compaction thread; a
// prototype here gained 25–45% appends and cut p99 from 658 ms to 101 ms with this layout.
import { TILE_HEIGHT, type TileId } from '../merkle/tiles.js';

export function uint64Key(n: bigint): Uint8Array {
  const k = new Uint8Array(8);
  new DataView(k.buffer).setBigUint64(0, n);
  return k;
}

export function readUint64Key(k: Uint8Array): bigint {
  return new DataView(k.buffer, k.byteOffset, 8).getBigUint64(0);
}

/**
 * A dedup row's value: the index big-endian in as few bytes as hold it (at least one). Below
 * 2^24 entries that is 3 bytes instead of 8, about 5 bytes per entry on disk. Rows written by
 * earlier builds hold all 8 bytes; readUintBE reads both.
 *
 * `bytes[at .. at+8)` already holds the index as a big-endian uint64 (the caller writes it
 * with the DataView it has); the result is the view past its leading zero bytes.
 */
export function minimalUint(bytes: Uint8Array, at: number): Uint8Array {
  let first = at;
  while (first < at + 7 && bytes[first] === 0) first++;
  return bytes.subarray(first, at + 8);
}

/** A big-endian unsigned integer of 1 to 8 bytes; undefined for any other length. */
export function readUintBE(b: Uint8Array): bigint | undefined {
  if (b.length < 1 || b.length > 8) return undefined;
  // Two halves as numbers: exact, and fewer BigInt operations than a byte loop.
  const split = Math.max(0, b.length - 4);
  let hi = 0;
  for (let i = 0; i < split; i++) hi = hi * 256 + b[i]!;
  let lo = 0;
  for (let i = split; i < b.length; i++) lo = lo * 256 + b[i]!;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** Key of tile (L, N) at width W: end = (N·256 + W)·256^L as uint64, then L. */
export function tileKey(tile: TileId, width: number): Uint8Array {
  const end = (tile.index * 256n + BigInt(width)) << BigInt(TILE_HEIGHT * tile.level);
  const k = new Uint8Array(9);
  const view = new DataView(k.buffer);
  // Only a full level-7 tile ends at 2^64, and that needs more leaves than a size can count.
  view.setBigUint64(0, BigInt.asUintN(64, end));
  k[8] = tile.level;
  return k;
}

/** The tile and width a tile key names: the inverse of tileKey (undefined for no tile key). */
export function tileOfKey(key: Uint8Array): { tile: TileId; width: number } | undefined {
  if (key.length !== 9 || key[8]! >= 8) return undefined;
  const level = key[8]!;
  const shift = BigInt(TILE_HEIGHT * level);
  const end = readUint64Key(key);
  // A tile of level L ends on a node of tree level 8·L: a multiple of 256^L leaves.
  if ((end & ((1n << shift) - 1n)) !== 0n || end === 0n) return undefined;
  const complete = end >> shift; // N·256 + W, with W in 1 … 256
  const index = (complete - 1n) >> 8n;
  return { tile: { level, index }, width: Number(complete - index * 256n) };
}

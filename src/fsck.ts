// Offline check of a data directory (vellum fsck): rebuilds the tree from the stored entries
// and holds every tile, checkpoint and dedup row to it. Finds any flipped byte in a stored
// entry, tile or checkpoint and names the first bad index, tile or checkpoint.

import { join } from 'node:path';
import { isVellumError } from './error.js';
import { CompactRange } from './merkle/compact-range.js';
import { bytesEqual, HASH_SIZE } from './merkle/hash.js';
import { formatTilePath, rightEdgeTiles, TILE_HEIGHT, type TileId, tileWidth } from './merkle/tiles.js';
import { nodeHasher as H } from './node-hasher.js';
import { type Checkpoint, openCheckpoint } from './note/checkpoint.js';
import { decodeUtf8, encodeBase64 } from './note/encoding.js';
import type { Verifier } from './note/keys.js';
import { readUint64Key, tileKey } from './storage/keys.js';
import { LevelStore } from './storage/level-store.js';
import { spanBytes, spanCount } from './storage/spans.js';

export interface FsckProblem {
  readonly kind: 'entry' | 'tile' | 'checkpoint' | 'dedup' | 'store';
  readonly message: string;
  readonly index?: bigint;
  readonly tile?: string;
  readonly size?: bigint;
}

export interface FsckResult {
  readonly ok: boolean;
  readonly size: bigint;
  readonly entries: bigint;
  readonly tiles: number;
  readonly checkpoints: number;
  /** In the order found; the first is the first bad index, tile or checkpoint. */
  readonly problems: FsckProblem[];
}

const CHUNK = 10_000n;
const MAX_PROBLEMS = 100;
const keyName = (k: Uint8Array) => encodeBase64(k);

/**
 * fsck of a data directory (`<dir>/db`): a store too damaged to open is a failed check with
 * one 'store' problem, not an exception; only a failure of the medium itself throws.
 */
export async function fsckDataDir(dir: string, verifier: Verifier): Promise<FsckResult> {
  // fsck reads every dedup row itself; a filter would only cost memory and a second scan.
  const store = new LevelStore(join(dir, 'db'), { dedupFilterBits: 0 });
  try {
    await store.open(verifier.name);
  } catch (e) {
    // open() has already closed the store it could not open.
    if (!isVellumError(e) || e.code !== 'CORRUPT') throw e;
    const problem: FsckProblem = { kind: 'store', message: `the store cannot be opened: ${e.message}` };
    return { ok: false, size: 0n, entries: 0n, tiles: 0, checkpoints: 0, problems: [problem] };
  }
  try {
    return await fsck(store, verifier);
  } finally {
    await store.close();
  }
}

export async function fsck(store: LevelStore, verifier: Verifier): Promise<FsckResult> {
  const problems: FsckProblem[] = [];
  const report = (p: FsckProblem) => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };
  let size = 0n;
  let entriesChecked = 0n;
  let tilesChecked = 0;
  const checkpoints = new Map<bigint, Checkpoint>();
  try {
    // 1. Checkpoints: each signed by the log, each stored under its own size.
    for await (const [k, v] of store.scan('checkpoints')) {
      const at = readUint64Key(k);
      try {
        const { checkpoint } = openCheckpoint(decodeUtf8(v) ?? '', [verifier], { origin: verifier.name });
        if (checkpoint.size !== at) throw new Error(`stored under size ${at} but says ${checkpoint.size}`);
        checkpoints.set(at, checkpoint);
      } catch (e) {
        report({ kind: 'checkpoint', size: at, message: `checkpoint ${at}: ${(e as Error).message}` });
      }
    }
    for (const s of checkpoints.keys()) if (s > size) size = s;
    const latest = checkpoints.get(size);

    // 2. Rebuild from the entries: leaf hashes, every tile's expected content, roots at each checkpoint size.
    const expectedTiles = new Map<string, { tile: TileId; hashes: Uint8Array[] }>();
    const range = new CompactRange(0n, [], H);
    const tileMismatches: { tile: TileId; offset: number }[] = [];
    const rootMismatches: bigint[] = [];
    const checkTile = async (tile: TileId, hashes: Uint8Array[]) => {
      tilesChecked++;
      const stored = await store.readTile(tile, hashes.length);
      const path = formatTilePath(tile, tile.index, hashes.length);
      if (stored === undefined) {
        report({ kind: 'tile', tile: path, message: `tile ${path} is missing` });
        return;
      }
      for (const [i, h] of hashes.entries()) {
        if (!bytesEqual(stored.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE), h)) {
          tileMismatches.push({ tile, offset: i });
          return;
        }
      }
    };
    for (let start = 0n; start < size; start += CHUNK) {
      const end = start + CHUNK < size ? start + CHUNK : size;
      const entries = await store.readEntries(start, end);
      if (BigInt(entries.length) !== end - start) {
        report({
          kind: 'entry',
          index: start + BigInt(entries.length),
          message: `entry ${start + BigInt(entries.length)} is missing`,
        });
        break;
      }
      const leafHashes = entries.map((e) => H.leafHash(e));
      const found = await store.findLeafHashes(leafHashes);
      for (const [i, f] of found.entries()) {
        const index = start + BigInt(i);
        if (f !== index) {
          report({
            kind: 'dedup',
            index,
            message: `dedup row of entry ${index} ${f === undefined ? 'is missing' : `points to ${f}`}`,
          });
        }
      }
      for (const h of leafHashes) {
        range.append(h, (level, index, hash) => {
          if (level % TILE_HEIGHT !== 0) return;
          const tile = { level: level / TILE_HEIGHT, index: index >> 8n };
          const name = `${tile.level}/${tile.index}`;
          const t = expectedTiles.get(name) ?? { tile, hashes: [] };
          t.hashes.push(hash);
          expectedTiles.set(name, t);
        });
        entriesChecked++;
        const c = checkpoints.get(range.size);
        if (c && !bytesEqual(c.rootHash, range.rootHash())) rootMismatches.push(range.size);
      }
      for (const [name, t] of expectedTiles) {
        if (t.hashes.length === 256) {
          await checkTile(t.tile, t.hashes);
          expectedTiles.delete(name);
        }
      }
    }
    for (const t of expectedTiles.values()) await checkTile(t.tile, t.hashes); // the right edge

    // 3. Blame: entries that rehash to the signed root are right, so a differing tile is bad;
    //    otherwise the entry whose leaf hash differs from the tile is.
    const entriesMatchRoot =
      latest !== undefined && bytesEqual(range.rootHash(), latest.rootHash) && range.size === size;
    for (const { tile, offset } of tileMismatches) {
      const path = formatTilePath(tile, tile.index, tileWidth(tile, size));
      if (!entriesMatchRoot && tile.level === 0) {
        const index = tile.index * 256n + BigInt(offset);
        report({
          kind: 'entry',
          index,
          message: `entry ${index} does not match the signed tree (tile ${path} hash ${offset})`,
        });
      } else {
        report({
          kind: 'tile',
          tile: path,
          message: `tile ${path} hash ${offset} does not match the entries and the signed root`,
        });
      }
    }
    for (const s of rootMismatches) {
      report({
        kind: 'checkpoint',
        size: s,
        message: `checkpoint ${s} signs a root the stored entries do not hash to`,
      });
    }

    // 4. Nothing stored beyond what the checkpoints cover, and no stray tiles or dedup rows.
    // The entry spans tile the index range [0, size) and the entry file's bytes without gaps.
    let nextIndex = 0n;
    let nextByte = 0;
    for await (const span of store.spans()) {
      if (span.start !== nextIndex || span.offset !== nextByte) {
        report({
          kind: 'entry',
          index: span.start,
          message: `entry span ${span.start} at byte ${span.offset} does not follow the one before it (index ${nextIndex}, byte ${nextByte})`,
        });
      }
      nextIndex = span.start + BigInt(spanCount(span));
      nextByte = span.offset + spanBytes(span);
    }
    if (nextIndex !== size)
      report({
        kind: 'entry',
        index: nextIndex,
        message: `entry spans end at ${nextIndex}, not at size ${size}`,
      });
    const fileLength = await store.entryFileLength();
    if (fileLength < nextByte)
      report({ kind: 'entry', message: `the entry file ends at byte ${fileLength}, entries at ${nextByte}` });
    // Tile rows are the right edge's partial tiles; full tiles are in the tile files.
    const expectedKeys = new Set(
      rightEdgeTiles(size).map(({ tile, width }) => keyName(tileKey(tile, width))),
    );
    for await (const [k] of store.scan('tiles')) {
      if (!expectedKeys.has(keyName(k)))
        report({
          kind: 'tile',
          message: `a stored tile key (${keyName(k)}) belongs to no tile of size ${size}`,
        });
    }
    let dedupRows = 0n;
    for await (const _ of store.scan('dedup')) dedupRows++;
    if (dedupRows !== size) report({ kind: 'dedup', message: `${dedupRows} dedup rows for ${size} entries` });
  } catch (e) {
    report({ kind: 'store', message: `the store cannot be read: ${(e as Error).message}` });
  }
  return {
    ok: problems.length === 0,
    size,
    entries: entriesChecked,
    tiles: tilesChecked,
    checkpoints: checkpoints.size,
    problems,
  };
}

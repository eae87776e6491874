// The LevelDB LogStore (`level`). Entry bytes live in the entry file and full tiles in a tile
// file per level (data-file.ts), inside the LevelDB directory, so one directory is the whole
// store and LevelDB's LOCK guards it all. Five key spaces, each its own one-byte prefix:
// s (entry spans: where each batch's entries lie in the entry file, by first index), t (the
// partial tile of each level, by end index and level), d (dedup: leaf hash → index),
// c (checkpoints by size), m (metadata). Entry bytes and tree hashes live apart, so an entry
// can later be erased while every proof stays valid.
//
// Earlier schemas are moved forward at open: schema 1 kept entries in LevelDB itself (space
// e), schema 2 kept full tiles there too (space t).
//
// Why prefixes and not abstract-level sublevels: per put, the sublevel option cost 14% of all
// CPU in an append profile (100k entries, batches of 1000); the prefixes are the same layout.
import { join } from 'node:path';
import { Level } from 'level';
import { VellumError } from '../error.js';
import { HASH_SIZE } from '../merkle/hash.js';
import { TILE_HEIGHT, TILE_WIDTH, type TileId, tileWidth } from '../merkle/tiles.js';
import { DataFile } from './data-file.js';
import { minimalUint, readUint64Key, readUintBE, tileKey, tileOfKey, uint64Key } from './keys.js';
import { LeafHashFilter } from './leaf-filter.js';
import {
  checkCommitStart,
  type IntegrationBatch,
  type LogStore,
  SCHEMA_VERSION,
  type TileData,
} from './log-store.js';
import { decodeSpan, encodeSpan, locate, type Span, spanBytes, spanCount } from './spans.js';

type Bytes = Uint8Array;

/** The dedup filter: whether it answers lookups yet, the leaf hashes it holds, its memory. */
export interface DedupFilterState {
  readonly ready: boolean;
  readonly entries: number;
  readonly bytes: number;
}

export interface LevelStoreOptions {
  /** fsync every commit (group commit: one fsync per integration batch). Default true. */
  durable?: boolean;
  /** LevelDB's max_open_files (its table cache; open tables are memory-mapped). Default 1000. */
  maxOpenFiles?: number;
  /**
   * Bits per entry of the in-memory filter in front of the dedup index (leaf-filter.ts);
   * 0: no filter, every dedup lookup asks LevelDB. Default 10 (~1.25 bytes per entry).
   */
  dedupFilterBits?: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

const LEGACY_ENTRIES = 0x65; // 'e': schema 1 only
const SPANS = 0x73; // 's'
const TILES = 0x74; // 't'
const DEDUP = 0x64; // 'd'
const CHECKPOINTS = 0x63; // 'c'
const META = 0x6d; // 'm'

/** A full tile's bytes in its level's tile file. */
const TILE_BYTES = TILE_WIDTH * HASH_SIZE;
/** Levels that can hold a full tile: level 7 would need 2^64 leaves. */
const TILE_LEVELS = 7;

/** How many full tiles `level` has in a tree of `size`: they are tiles 0 … n−1. */
const fullTiles = (level: number, size: bigint) => size >> BigInt(TILE_HEIGHT * (level + 1));

/** A key space prefix then a uint64 index: one allocation per key on the commit path. */
function indexKey(space: number, n: bigint): Bytes {
  const k = new Uint8Array(9);
  k[0] = space;
  new DataView(k.buffer).setBigUint64(1, n);
  return k;
}

function prefixed(space: number, key: Bytes): Bytes {
  const k = new Uint8Array(key.length + 1);
  k[0] = space;
  k.set(key, 1);
  return k;
}

/** The smallest key after every key of a space. */
const spaceEnd = (space: number) => new Uint8Array([space + 1]);

/** Every key of a space (optionally the first `limit`). */
const spaceRange = (space: number, limit?: number) => ({
  gt: new Uint8Array([space]),
  lt: spaceEnd(space),
  ...(limit === undefined ? {} : { limit }),
});

/** classic-level returns Buffers; callers get plain Uint8Array views of the same memory. */
const view = (b: Bytes | undefined): Bytes | undefined =>
  b === undefined ? undefined : new Uint8Array(b.buffer, b.byteOffset, b.length);

function storageError(e: unknown): VellumError {
  return e instanceof VellumError
    ? e
    : new VellumError('STORAGE', `LevelDB: ${(e as Error).message}`, undefined, { cause: e });
}

async function guard<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw storageError(e);
  }
}

function entryBytes(entries: readonly Bytes[]): number {
  let n = 0;
  for (const e of entries) n += e.length;
  return n;
}

/**
 * Settles once every write has, and rejects with the first failure. Promise.all would reject
 * while other writes still run, and a write still running must not be taken for settled.
 */
async function allWritten(writes: readonly Promise<void>[]): Promise<void> {
  for (const r of await Promise.allSettled(writes)) if (r.status === 'rejected') throw r.reason;
}

interface TileRun {
  readonly level: number;
  readonly start: bigint;
  readonly hashes: Bytes[];
}

/** A batch's full tiles as runs of consecutive tiles of one level: one write per run. */
function tileRuns(tiles: readonly TileData[]): TileRun[] {
  const full = tiles
    .filter((t) => t.width === TILE_WIDTH)
    .sort((a, b) => a.level - b.level || (a.index < b.index ? -1 : a.index > b.index ? 1 : 0));
  const runs: TileRun[] = [];
  for (const t of full) {
    if (t.hashes.length !== TILE_BYTES) {
      throw new Error(`assertion failed: full tile ${t.level}/${t.index} of ${t.hashes.length} bytes`);
    }
    const last = runs.at(-1);
    if (last !== undefined && last.level === t.level && last.start + BigInt(last.hashes.length) === t.index) {
      last.hashes.push(t.hashes);
    } else {
      runs.push({ level: t.level, start: t.index, hashes: [t.hashes] });
    }
  }
  return runs;
}

export class LevelStore implements LogStore {
  readonly #db: Level<Bytes, Bytes>;
  readonly #durable: boolean;
  #entries: DataFile | undefined;
  /** Tile files by level, opened (created if missing) when first needed. */
  readonly #tileFiles = new Map<number, Promise<DataFile>>();
  /** Size of the latest committed checkpoint: the commit precondition. */
  #size: bigint | undefined;
  /**
   * The latest size known to be committed: full tiles below it are read from the tile files.
   * Unlike #size, a failed commit leaves it as it was: the tiles it covers are there either way.
   */
  #readable = 0n;
  /** Entry file offset past the last committed entry: where the next batch's bytes go. */
  #end = 0;
  /**
   * Staging (see stage()): the size and entry file offset after the last batch handed over,
   * staged or committing; undefined from a failed commit until a commit has let every earlier
   * write settle. Staged batches by the size they start at, and every write not yet settled.
   */
  #next: { size: bigint; offset: number } | undefined;
  readonly #staged = new Map<bigint, { batch: IntegrationBatch; offset: number; written: Promise<void> }>();
  readonly #writes = new Set<Promise<void>>();
  /** A schema 1 store whose entries are not yet all in the entry file. */
  #legacy = false;
  readonly #filterBits: number;
  /**
   * Every leaf hash of the dedup index and of every batch given to commit() (a superset: a
   * failed batch's hashes only cost lookups). Trusted once #filterBuild has added the ones
   * committed before open; until then LevelDB answers every lookup.
   */
  #filter: LeafHashFilter | undefined;
  #filterReady = false;
  /** What #open read for the filter, until the first lookup, commit or dedupFilterBuilt() makes it. */
  #filterToBuild: { size: bigint; partial: Bytes } | undefined;
  #filterBuild: Promise<boolean> = Promise.resolve(false);
  #closing = false;

  constructor(
    readonly path: string,
    options: LevelStoreOptions = {},
  ) {
    this.#durable = options.durable ?? true;
    this.#filterBits = options.dedupFilterBits ?? 10;
    this.#db = new Level<Bytes, Bytes>(path, {
      keyEncoding: 'view',
      valueEncoding: 'view',
      maxOpenFiles: options.maxOpenFiles ?? 1000,
    });
  }

  async open(origin: string): Promise<void> {
    try {
      await this.#open(origin);
    } catch (e) {
      // Nothing stays open (nor LevelDB's lock held) after a store that cannot be opened.
      await this.close().catch(() => {});
      throw e;
    }
  }

  #open(origin: string): Promise<void> {
    return guard(async () => {
      await this.#db.open();
      const stored = await this.#db.get(prefixed(META, enc.encode('schema')));
      const schema = stored && dec.decode(stored);
      if (schema !== undefined && schema !== SCHEMA_VERSION && schema !== '1' && schema !== '2') {
        throw new VellumError(
          'CORRUPT',
          `store schema version ${schema}, this build reads ${SCHEMA_VERSION}`,
        );
      }
      const storedOrigin = await this.#db.get(prefixed(META, enc.encode('origin')));
      if (storedOrigin !== undefined && dec.decode(storedOrigin) !== origin) {
        throw new VellumError(
          'CONFIG',
          `store belongs to origin ${JSON.stringify(dec.decode(storedOrigin))}, not ${JSON.stringify(origin)}`,
        );
      }
      if (schema === undefined) {
        await this.#db
          .batch()
          .put(prefixed(META, enc.encode('schema')), enc.encode(SCHEMA_VERSION))
          .put(prefixed(META, enc.encode('origin')), enc.encode(origin))
          .write({ sync: this.#durable });
      }
      this.#entries = await DataFile.open(join(this.path, 'entries'), 'the entry file', this.#durable);
      this.#legacy = schema === '1';
      await this.#reload();
      if (this.#legacy) await this.#moveLegacyEntries();
      // After the schema flip and before the legacy rows were cleared: finish the clear.
      else if ((await this.#db.keys(spaceRange(LEGACY_ENTRIES, 1)).all()).length > 0)
        await this.#clearLegacy();
      if (schema === '1' || schema === '2') await this.#moveFullTiles();
      this.#next = { size: this.#size ?? 0n, offset: this.#end };
      const length = await this.#entries.length();
      if (length < this.#end) {
        throw new VellumError(
          'CORRUPT',
          `the entry file holds ${length} bytes but committed entries end at byte ${this.#end}: acknowledged entries are missing`,
        );
      }
      // Bytes past #end (or past the last full tile) are what an uncommitted batch left; the
      // next commit overwrites them. They are not cut here: a damaged span row or checkpoint
      // must not make open() destroy data.
      await this.#checkTileFiles();
      if (this.#filterBits > 0) {
        const size = this.#readable;
        // The partial level-0 tile now, before a commit can widen it (and replace its row); the
        // filter and its full tiles later, while the log serves, not while the log opens.
        const width = Number(size % BigInt(TILE_WIDTH));
        const partial =
          width > 0
            ? await this.readTile({ level: 0, index: size / BigInt(TILE_WIDTH) }, width)
            : new Uint8Array(0);
        if (partial?.length === width * HASH_SIZE) this.#filterToBuild = { size, partial };
      }
    });
  }

  /**
   * Adds the leaf hashes of the full level-0 tiles at open to the filter (#startFilter added the
   * partial tile's). They are the keys of the dedup rows (each batch writes both), read here
   * from the level-0 tile file, 256 KiB per read, through the page cache. Iterating LevelDB's
   * rows instead cost ~2 µs per key and, through its memory-mapped tables, left the whole
   * dedup index in the server's RSS (+250 MB on a 10M-entry log). Entries committed meanwhile
   * were added by commit(). A read error leaves the filter untrusted.
   */
  async #buildFilter(filter: LeafHashFilter, size: bigint): Promise<boolean> {
    try {
      const full = Number(fullTiles(0, size));
      if (full > 0) {
        const file = await this.#tileFile(0);
        const step = 32; // tiles per read: 8,192 hashes, under a millisecond of the event loop
        const buffer = new Uint8Array(step * TILE_BYTES);
        for (let tile = 0; tile < full; tile += step) {
          if (this.#closing) return false;
          const n = Math.min(step, full - tile);
          const bytes = await file.read(tile * TILE_BYTES, n * TILE_BYTES, buffer);
          for (let at = 0; at < bytes.length; at += HASH_SIZE) filter.add(bytes, at);
        }
      }
      if (this.#closing) return false;
      this.#filterReady = true;
      return true;
    } catch {
      return false;
    }
  }

  /** Makes the dedup filter and starts adding the full tiles' leaf hashes to it, once. */
  #startFilter(): void {
    const todo = this.#filterToBuild;
    if (todo === undefined || this.#closing) return;
    this.#filterToBuild = undefined;
    const filter = new LeafHashFilter(Number(todo.size), { bitsPerEntry: this.#filterBits });
    for (let at = 0; at < todo.partial.length; at += HASH_SIZE) filter.add(todo.partial, at);
    this.#filter = filter;
    this.#filterBuild = this.#buildFilter(filter, todo.size);
  }

  /**
   * Starts building the dedup filter if the first lookup or commit has not, and settles when
   * it is built: true if it now answers lookups, false if there is none, the store closed
   * first, or reading the tiles failed (LevelDB answers every lookup).
   */
  dedupFilterBuilt(): Promise<boolean> {
    this.#startFilter();
    return this.#filterBuild;
  }

  /** The dedup filter's state, for metrics; undefined until it is made. */
  get dedupFilter(): DedupFilterState | undefined {
    const f = this.#filter;
    return f && { ready: this.#filterReady, entries: f.entries, bytes: f.bytes };
  }

  /** The size of the latest checkpoint in LevelDB (undefined: none), without touching any state. */
  async #latestSize(): Promise<bigint | undefined> {
    const last = await this.#db.keys({ ...spaceRange(CHECKPOINTS), reverse: true, limit: 1 }).all();
    return last[0] === undefined ? undefined : readUint64Key(last[0].subarray(1));
  }

  async #reload(): Promise<void> {
    this.#size = await this.#latestSize();
    this.#readable = this.#size ?? 0n;
    const span = await this.#db.iterator({ ...spaceRange(SPANS), reverse: true, limit: 1 }).all();
    const s = span[0] && decodeSpan(readUint64Key(span[0][0].subarray(1)), span[0][1]);
    this.#end = s === undefined ? 0 : s.offset + spanBytes(s);
    const covered = s === undefined ? 0n : s.start + BigInt(spanCount(s));
    // A schema 1 store may hold some spans of an interrupted move; the move starts over.
    if (!this.#legacy && covered !== (this.#size ?? 0n)) {
      throw new VellumError(
        'CORRUPT',
        `entry spans end at index ${covered}, the latest checkpoint at ${this.#size}`,
      );
    }
  }

  /** Every full tile of the committed size is in its file. */
  async #checkTileFiles(): Promise<void> {
    for (let level = 0; level < TILE_LEVELS; level++) {
      const n = fullTiles(level, this.#readable);
      if (n === 0n) return;
      const file = await this.#tileFile(level);
      const length = await file.length();
      if (BigInt(length) < n * BigInt(TILE_BYTES)) {
        throw new VellumError(
          'CORRUPT',
          `${file.label} holds ${length} bytes but ${n} full tiles (${n * BigInt(TILE_BYTES)} bytes) are committed: acknowledged tiles are missing`,
        );
      }
    }
  }

  #tileFile(level: number): Promise<DataFile> {
    let file = this.#tileFiles.get(level);
    if (file === undefined) {
      file = DataFile.open(join(this.path, `tiles-${level}`), `the level-${level} tile file`, this.#durable);
      this.#tileFiles.set(level, file);
      // A failed open is tried again next time, not remembered.
      file.catch(() => this.#tileFiles.delete(level));
    }
    return file;
  }

  /**
   * Schema 1 → 2: entries move from LevelDB rows to the entry file, in spans of up to 1,024.
   * Restartable: until the schema row says 2, a crash leaves the rows in place and the next
   * open moves them again over the same offsets and span keys.
   */
  async #moveLegacyEntries(): Promise<void> {
    const file = this.#entries!;
    const size = this.#size ?? 0n;
    let next = 0n;
    let offset = 0;
    let chunk: Bytes[] = [];
    const flush = async () => {
      if (chunk.length === 0) return;
      await file.write(offset, chunk);
      await this.#db.put(indexKey(SPANS, next - BigInt(chunk.length)), encodeSpan(offset, chunk));
      for (const e of chunk) offset += e.length;
      chunk = [];
    };
    for await (const [k, v] of this.#db.iterator(spaceRange(LEGACY_ENTRIES))) {
      const index = readUint64Key(k.subarray(1));
      if (index !== next || index >= size) {
        throw new VellumError(
          'CORRUPT',
          `schema 1 entry row ${index} where entry ${next} of ${size} was expected`,
        );
      }
      chunk.push(view(v)!);
      next++;
      if (chunk.length === 1024) await flush();
    }
    await flush();
    if (next !== size)
      throw new VellumError('CORRUPT', `schema 1 store: ${next} entry rows for size ${size}`);
    // The bytes are durable before the schema row says where entries live.
    await file.sync();
    await this.#db.put(prefixed(META, enc.encode('schema')), enc.encode('2'), { sync: true });
    this.#legacy = false;
    await this.#clearLegacy();
    await this.#reload();
  }

  #clearLegacy(): Promise<void> {
    return this.#db.clear(spaceRange(LEGACY_ENTRIES));
  }

  /**
   * Schema 2 → 3: full tiles move from LevelDB rows to the tile files, in runs of up to 128.
   * Restartable: the rows are deleted in the same LevelDB batch that flips the schema row,
   * after every byte is in the files and synced, so a crash before it leaves the rows in
   * place to be moved again over the same bytes.
   */
  async #moveFullTiles(): Promise<void> {
    const moved: Bytes[] = [];
    const runs = new Map<number, { start: bigint; hashes: Bytes[] }>();
    const flush = async (level: number) => {
      const run = runs.get(level);
      if (run === undefined) return;
      runs.delete(level);
      await (await this.#tileFile(level)).write(Number(run.start) * TILE_BYTES, run.hashes);
    };
    for await (const [k, v] of this.#db.iterator(spaceRange(TILES))) {
      const named = tileOfKey(k.subarray(1));
      if (named === undefined || named.width !== TILE_WIDTH) continue;
      const { tile } = named;
      if (v.length !== TILE_BYTES || tile.level >= TILE_LEVELS) {
        throw new VellumError(
          'CORRUPT',
          `schema 2 full tile ${tile.level}/${tile.index} holds ${v.length} bytes`,
        );
      }
      const run = runs.get(tile.level);
      if (
        run !== undefined &&
        (run.start + BigInt(run.hashes.length) !== tile.index || run.hashes.length === 128)
      ) {
        await flush(tile.level);
      }
      const r = runs.get(tile.level) ?? { start: tile.index, hashes: [] };
      runs.set(tile.level, r);
      r.hashes.push(view(v)!);
      moved.push(k);
    }
    for (const level of [...runs.keys()]) await flush(level);
    // A durable store's tile files are O_DSYNC: the bytes are on the medium by now.
    const b = this.#db.batch();
    for (const k of moved) b.del(k);
    await b.put(prefixed(META, enc.encode('schema')), enc.encode(SCHEMA_VERSION)).write({ sync: true });
  }

  latestCheckpoint(): Promise<Bytes | undefined> {
    return guard(async () =>
      view((await this.#db.values({ ...spaceRange(CHECKPOINTS), reverse: true, limit: 1 }).all())[0]),
    );
  }

  checkpointCovering(index: bigint): Promise<Bytes | undefined> {
    return guard(async () =>
      view(
        (
          await this.#db
            .values({ gt: prefixed(CHECKPOINTS, uint64Key(index)), lt: spaceEnd(CHECKPOINTS), limit: 1 })
            .all()
        )[0],
      ),
    );
  }

  readTile(tile: TileId, width: number, into?: Uint8Array): Promise<Bytes | undefined> {
    return guard(async () => {
      if (width !== TILE_WIDTH) return view(await this.#db.get(prefixed(TILES, tileKey(tile, width))));
      // Only committed full tiles are read, so a reader never sees a batch's before its commit.
      if (tile.index < 0n) return undefined;
      if (tile.index >= fullTiles(tile.level, this.#readable) && this.#size === undefined) {
        // After a failed commit, whose batch may have landed after all (the log then reloads
        // and serves its size): ask LevelDB. Its checkpoint proves the tiles were durable first.
        const durable = (await this.#latestSize()) ?? 0n;
        if (durable > this.#readable) this.#readable = durable;
      }
      if (tile.index >= fullTiles(tile.level, this.#readable)) return undefined;
      const file = await this.#tileFile(tile.level);
      return file.read(Number(tile.index) * TILE_BYTES, TILE_BYTES, into);
    });
  }

  readEntries(start: bigint, end: bigint): Promise<Bytes[]> {
    if (end <= start) return Promise.resolve([]);
    return guard(async () => {
      // The span holding `start` (the last one starting at or before it), then those after it
      // that start before `end`. Only committed spans exist, so reads never see a batch's
      // bytes before its commit.
      const first = await this.#db
        .iterator({ gt: new Uint8Array([SPANS]), lte: indexKey(SPANS, start), reverse: true, limit: 1 })
        .all();
      if (first.length === 0) return [];
      const rest = await this.#db.iterator({ gt: indexKey(SPANS, start), lt: indexKey(SPANS, end) }).all();
      const spans = [...first, ...rest].map(([k, v]) => decodeSpan(readUint64Key(k.subarray(1)), v));
      const { offset, length, lengths } = locate(spans, start, end);
      if (lengths.length === 0) return [];
      const bytes = await this.#entries!.read(offset, length);
      const out: Bytes[] = [];
      let at = 0;
      for (const n of lengths) {
        out.push(bytes.subarray(at, at + n));
        at += n;
      }
      return out;
    });
  }

  findLeafHashes(leafHashes: readonly Bytes[]): Promise<(bigint | undefined)[]> {
    this.#startFilter();
    const result: (bigint | undefined)[] = new Array(leafHashes.length).fill(undefined);
    // Only the leaf hashes the filter cannot rule out are asked of LevelDB.
    const filter = this.#filterReady ? this.#filter : undefined;
    const asked: number[] = [];
    for (let i = 0; i < leafHashes.length; i++) {
      if (filter === undefined || filter.mightHold(leafHashes[i]!)) asked.push(i);
    }
    if (asked.length === 0) return Promise.resolve(result);
    return guard(async () => {
      const keys = new Uint8Array(asked.length * 33);
      const found = await this.#db.getMany(
        asked.map((at, i) => {
          keys[i * 33] = DEDUP;
          keys.set(leafHashes[at]!, i * 33 + 1);
          return keys.subarray(i * 33, i * 33 + 33);
        }),
      );
      for (const [i, v] of found.entries()) {
        if (v === undefined) continue;
        const index = readUintBE(v);
        if (index === undefined) throw new VellumError('CORRUPT', `dedup row of ${v.length} bytes`);
        result[asked[i]!] = index;
      }
      return result;
    });
  }

  /**
   * Writes a batch's entry bytes and full tiles ahead of its commit, while the batch before it
   * is still being committed: its commit then only waits for those writes to finish. A hint;
   * commit() writes whatever was not staged, or was staged from a view of the store that a
   * failure made stale. Staged bytes lie past the committed end of each file, so until their
   * batch commits they are as harmless as a crash's leftovers.
   */
  stage(batch: IntegrationBatch): void {
    const next = this.#next;
    if (
      next === undefined ||
      next.size !== batch.size1 ||
      batch.entries.length === 0 ||
      this.#staged.size >= 4
    )
      return;
    const written = this.#track(this.#writeData(batch, next.offset));
    this.#staged.set(batch.size1, { batch, offset: next.offset, written });
    this.#next = { size: batch.size2, offset: next.offset + entryBytes(batch.entries) };
  }

  #track(write: Promise<void>): Promise<void> {
    this.#writes.add(write);
    const done = () => this.#writes.delete(write);
    write.then(done, done);
    return write;
  }

  /** A batch's entries from entry file offset `at`, and its full tiles: all files at once. */
  #writeData(batch: IntegrationBatch, at: number): Promise<void> {
    const writes: Promise<void>[] = [];
    if (batch.entries.length > 0) writes.push(this.#entries!.write(at, batch.entries));
    for (const run of tileRuns(batch.tiles)) {
      writes.push(this.#tileFile(run.level).then((f) => f.write(Number(run.start) * TILE_BYTES, run.hashes)));
    }
    return allWritten(writes);
  }

  /** The data of `batch` past the committed end of each file, staged or written now. */
  async #writeBatchData(batch: IntegrationBatch, bytes: number): Promise<void> {
    const staged = this.#staged.get(batch.size1);
    for (const k of this.#staged.keys()) if (k <= batch.size1) this.#staged.delete(k);
    if (staged !== undefined && staged.batch === batch && staged.offset === this.#end) return staged.written;
    // Not staged, or staged for another batch (one that failed before reaching the store was
    // prepared at this size): every staged write is void. Let them settle, so none lands
    // after this one on the same bytes, and restart the chain after this batch.
    this.#staged.clear();
    this.#next = undefined;
    await Promise.allSettled([...this.#writes]);
    this.#next = { size: batch.size2, offset: this.#end + bytes };
    await this.#track(this.#writeData(batch, this.#end));
  }

  async commit(batch: IntegrationBatch): Promise<void> {
    // After a failed commit the size is unknown: the batch may or may not have landed.
    if (this.#size === undefined) await guard(() => this.#reload());
    checkCommitStart(this.#size, batch);
    const n = batch.entries.length;
    const bytes = entryBytes(batch.entries);
    // One chained batch: measured 3–5× faster here than the array form with options.
    const b = this.#db.batch();
    if (n > 0) b.put(indexKey(SPANS, batch.size1), encodeSpan(this.#end, batch.entries));
    // Every key of the batch in one buffer: a small key of its own per put was a separate
    // allocation (and a copy to native memory) each, a visible share of GC time per append.
    const keys = new Uint8Array(n * (33 + 8));
    const view = new DataView(keys.buffer);
    // Into the filter before the write: should the write fail, an extra hash costs a lookup,
    // while a missing one would let a retry of a landed entry be appended twice.
    this.#startFilter();
    const filter = this.#filter;
    if (filter !== undefined) for (const h of batch.leafHashes) filter.add(h);
    for (let i = 0; i < n; i++) {
      const d = i * 33;
      keys[d] = DEDUP;
      keys.set(batch.leafHashes[i]!, d + 1);
      const v = n * 33 + i * 8;
      view.setBigUint64(v, batch.size1 + BigInt(i));
      b.put(keys.subarray(d, d + 33), minimalUint(keys, v));
    }
    // Partial tiles are rows, replaced as they widen; full tiles go to the tile files.
    for (const t of batch.tiles) {
      const old = tileWidth(t, batch.size1);
      if (old > 0 && old < TILE_WIDTH && old !== t.width) b.del(prefixed(TILES, tileKey(t, old)));
      if (t.width < TILE_WIDTH) b.put(prefixed(TILES, tileKey(t, t.width)), t.hashes);
    }
    b.put(indexKey(CHECKPOINTS, batch.size2), batch.checkpoint);
    try {
      // The entries' and full tiles' bytes are durable before the batch that covers them.
      await this.#writeBatchData(batch, bytes);
      await b.write({ sync: this.#durable });
    } catch (e) {
      this.#size = undefined;
      this.#next = undefined;
      this.#staged.clear();
      throw storageError(e);
    }
    this.#size = batch.size2;
    this.#readable = batch.size2;
    this.#end += bytes;
  }

  /**
   * Every record of one key space, in key order, keys without their prefix: for the offline
   * checker (fsck), not for the log. Tiles are the partial ones; full tiles are in files.
   */
  async *scan(space: 'tiles' | 'dedup' | 'checkpoints'): AsyncGenerator<[Bytes, Bytes]> {
    const prefix = { tiles: TILES, dedup: DEDUP, checkpoints: CHECKPOINTS }[space];
    try {
      for await (const [k, v] of this.#db.iterator(spaceRange(prefix))) {
        yield [k.subarray(1), view(v)!];
      }
    } catch (e) {
      throw storageError(e);
    }
  }

  /** Every entry span in index order, parsed: for fsck. */
  async *spans(): AsyncGenerator<Span> {
    try {
      for await (const [k, v] of this.#db.iterator(spaceRange(SPANS))) {
        yield decodeSpan(readUint64Key(k.subarray(1)), v);
      }
    } catch (e) {
      throw storageError(e);
    }
  }

  /** The entry file's length in bytes: for fsck. */
  entryFileLength(): Promise<number> {
    return guard(() => this.#entries!.length());
  }

  async close(): Promise<void> {
    this.#closing = true;
    await this.#filterBuild;
    // A staged batch whose commit never came may still be writing.
    await Promise.allSettled([...this.#writes]);
    await this.#entries?.close();
    this.#entries = undefined;
    const tiles = [...this.#tileFiles.values()];
    this.#tileFiles.clear();
    for (const r of await Promise.allSettled(tiles)) if (r.status === 'fulfilled') await r.value.close();
    await this.#db.close();
  }
}

// The LevelDB LogStore (`level`). Sublevels: e (entries by index), t (tiles by end index and
// level), d (dedup: leaf hash → index), c (checkpoints by size), m (metadata). Entry bytes
// and tree hashes live apart, so an entry can later be erased while every proof stays valid.
import { Level } from 'level';
import { VellumError } from '../error.js';
import { type TileId, tileWidth } from '../merkle/tiles.js';
import { readUint64Key, tileKey, uint64Key } from './keys.js';
import { type IntegrationBatch, type LogStore, SCHEMA_VERSION } from './log-store.js';

type Bytes = Uint8Array;
const sublevel = (db: Level<Bytes, Bytes>, name: string) =>
  db.sublevel<Bytes, Bytes>(name, { keyEncoding: 'view', valueEncoding: 'view' });
type Sub = ReturnType<typeof sublevel>;

export interface LevelStoreOptions {
  /** fsync every commit (group commit: one fsync per integration batch). Default true. */
  durable?: boolean;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** classic-level returns Buffers; callers get plain Uint8Array views of the same memory. */
const view = (b: Bytes | undefined): Bytes | undefined =>
  b === undefined ? undefined : new Uint8Array(b.buffer, b.byteOffset, b.length);

function storageError(e: unknown): VellumError {
  return e instanceof VellumError
    ? e
    : new VellumError('STORAGE', `LevelDB: ${(e as Error).message}`, undefined, { cause: e });
}

export class LevelStore implements LogStore {
  readonly #db: Level<Bytes, Bytes>;
  readonly #entries: Sub;
  readonly #tiles: Sub;
  readonly #dedup: Sub;
  readonly #checkpoints: Sub;
  readonly #meta: Sub;
  readonly #durable: boolean;
  /** Size of the latest committed checkpoint: the commit precondition. */
  #size: bigint | undefined;

  constructor(
    readonly path: string,
    options: LevelStoreOptions = {},
  ) {
    this.#durable = options.durable ?? true;
    this.#db = new Level<Bytes, Bytes>(path, { keyEncoding: 'view', valueEncoding: 'view' });
    const sub = (name: string) => sublevel(this.#db, name);
    this.#entries = sub('e');
    this.#tiles = sub('t');
    this.#dedup = sub('d');
    this.#checkpoints = sub('c');
    this.#meta = sub('m');
  }

  async open(origin: string): Promise<void> {
    try {
      await this.#db.open();
      const schema = await this.#meta.get(enc.encode('schema'));
      if (schema !== undefined && dec.decode(schema) !== SCHEMA_VERSION) {
        throw new VellumError(
          'CORRUPT',
          `store schema version ${dec.decode(schema)}, this build reads ${SCHEMA_VERSION}`,
        );
      }
      const stored = await this.#meta.get(enc.encode('origin'));
      if (stored !== undefined && dec.decode(stored) !== origin) {
        throw new VellumError(
          'CONFIG',
          `store belongs to origin ${JSON.stringify(dec.decode(stored))}, not ${JSON.stringify(origin)}`,
        );
      }
      if (schema === undefined) {
        await this.#db
          .batch()
          .put(enc.encode('schema'), enc.encode(SCHEMA_VERSION), { sublevel: this.#meta })
          .put(enc.encode('origin'), enc.encode(origin), { sublevel: this.#meta })
          .write({ sync: this.#durable });
      }
      await this.#reload();
    } catch (e) {
      throw storageError(e);
    }
  }

  async latestCheckpoint(): Promise<Bytes | undefined> {
    try {
      return view((await this.#checkpoints.values({ reverse: true, limit: 1 }).all())[0]);
    } catch (e) {
      throw storageError(e);
    }
  }

  async checkpointCovering(index: bigint): Promise<Bytes | undefined> {
    try {
      return view((await this.#checkpoints.values({ gt: uint64Key(index), limit: 1 }).all())[0]);
    } catch (e) {
      throw storageError(e);
    }
  }

  async readTile(tile: TileId, width: number): Promise<Bytes | undefined> {
    try {
      return view(await this.#tiles.get(tileKey(tile, width)));
    } catch (e) {
      throw storageError(e);
    }
  }

  async readEntries(start: bigint, end: bigint): Promise<Bytes[]> {
    if (end <= start) return [];
    try {
      const out: Bytes[] = [];
      let next = start;
      for (const [k, v] of await this.#entries
        .iterator({ gte: uint64Key(start), lt: uint64Key(end) })
        .all()) {
        if (readUint64Key(k) !== next) break;
        out.push(view(v)!);
        next++;
      }
      return out;
    } catch (e) {
      throw storageError(e);
    }
  }

  async findLeafHashes(leafHashes: readonly Bytes[]): Promise<(bigint | undefined)[]> {
    if (leafHashes.length === 0) return [];
    try {
      const found = await this.#dedup.getMany(leafHashes as Bytes[]);
      return found.map((v) => (v === undefined ? undefined : readUint64Key(v)));
    } catch (e) {
      throw storageError(e);
    }
  }

  async commit(batch: IntegrationBatch): Promise<void> {
    // After a failed commit the size is unknown: the batch may or may not have landed.
    if (this.#size === undefined) await this.#reload();
    if ((this.#size ?? 0n) !== batch.size1 || (this.#size === undefined && batch.size1 !== 0n)) {
      throw new VellumError('CORRUPT', `commit from size ${batch.size1} but the store is at ${this.#size}`);
    }
    // One chained batch: measured 3–5× faster here than the array form with options.
    const b = this.#db.batch();
    for (let i = 0; i < batch.entries.length; i++) {
      const index = uint64Key(batch.size1 + BigInt(i));
      b.put(index, batch.entries[i]!, { sublevel: this.#entries });
      b.put(batch.leafHashes[i]!, index, { sublevel: this.#dedup });
    }
    for (const t of batch.tiles) {
      const old = tileWidth(t, batch.size1);
      if (old > 0 && old < 256 && old !== t.width) b.del(tileKey(t, old), { sublevel: this.#tiles });
      b.put(tileKey(t, t.width), t.hashes, { sublevel: this.#tiles });
    }
    b.put(uint64Key(batch.size2), batch.checkpoint, { sublevel: this.#checkpoints });
    try {
      await b.write({ sync: this.#durable });
    } catch (e) {
      this.#size = undefined;
      throw storageError(e);
    }
    this.#size = batch.size2;
  }

  async #reload(): Promise<void> {
    try {
      const last = await this.#checkpoints.keys({ reverse: true, limit: 1 }).all();
      this.#size = last[0] === undefined ? undefined : readUint64Key(last[0]);
    } catch (e) {
      throw storageError(e);
    }
  }

  async close(): Promise<void> {
    await this.#db.close();
  }
}

// A LogStore in memory, for tests. Same contract as the LevelDB store; "durable" means it
// survives closing and reopening a log on the same MemoryStore object.
import { VellumError } from '../error.js';
import type { TileId } from '../merkle/tiles.js';
import { tileWidth } from '../merkle/tiles.js';
import { checkCommitStart, type IntegrationBatch, type LogStore, SCHEMA_VERSION } from './log-store.js';

const hashKey = (h: Uint8Array) => String.fromCharCode(...h);
const tileName = (t: TileId, width: number) => `${t.level}/${t.index}/${width}`;

export class MemoryStore implements LogStore {
  readonly entries = new Map<bigint, Uint8Array>();
  readonly tiles = new Map<string, Uint8Array>();
  readonly dedup = new Map<string, bigint>();
  /** size → note, in commit order (sizes ascend). */
  readonly checkpoints = new Map<bigint, Uint8Array>();
  readonly meta = new Map<string, string>();
  /** Size of the latest committed checkpoint. */
  #size: bigint | undefined;

  async open(origin: string): Promise<void> {
    const schema = this.meta.get('schema');
    if (schema !== undefined && schema !== SCHEMA_VERSION)
      throw new VellumError('CORRUPT', `schema version ${schema}`);
    const stored = this.meta.get('origin');
    if (stored !== undefined && stored !== origin) {
      throw new VellumError(
        'CONFIG',
        `store belongs to origin ${JSON.stringify(stored)}, not ${JSON.stringify(origin)}`,
      );
    }
    this.meta.set('schema', SCHEMA_VERSION);
    this.meta.set('origin', origin);
  }

  async latestCheckpoint(): Promise<Uint8Array | undefined> {
    return this.#size === undefined ? undefined : this.checkpoints.get(this.#size);
  }

  async checkpointCovering(index: bigint): Promise<Uint8Array | undefined> {
    for (const [size, note] of this.checkpoints) if (size > index) return note;
    return undefined;
  }

  async readTile(tile: TileId, width: number): Promise<Uint8Array | undefined> {
    return this.tiles.get(tileName(tile, width));
  }

  async readEntries(start: bigint, end: bigint): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    for (let i = start; i < end; i++) {
      const e = this.entries.get(i);
      if (e === undefined) break;
      out.push(e);
    }
    return out;
  }

  async findLeafHashes(leafHashes: readonly Uint8Array[]): Promise<(bigint | undefined)[]> {
    return leafHashes.map((h) => this.dedup.get(hashKey(h)));
  }

  async commit(batch: IntegrationBatch): Promise<void> {
    checkCommitStart(this.#size, batch);
    batch.entries.forEach((e, i) => {
      this.entries.set(batch.size1 + BigInt(i), e);
      this.dedup.set(hashKey(batch.leafHashes[i]!), batch.size1 + BigInt(i));
    });
    for (const t of batch.tiles) {
      const old = tileWidth(t, batch.size1);
      if (old > 0 && old < 256 && old !== t.width) this.tiles.delete(tileName(t, old));
      this.tiles.set(tileName(t, t.width), t.hashes);
    }
    this.checkpoints.set(batch.size2, batch.checkpoint);
    this.#size = batch.size2;
  }

  async close(): Promise<void> {}
}

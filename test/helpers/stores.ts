import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VellumError } from '../../src/error.js';
import type { TileId } from '../../src/merkle/tiles.js';
import { LevelStore } from '../../src/storage/level-store.js';
import type { IntegrationBatch, LogStore } from '../../src/storage/log-store.js';
import { MemoryStore } from '../../src/storage/memory-store.js';

/** A factory that can make a store, and make it again over the same durable data. */
export interface StoreKind {
  name: string;
  create(): { store: LogStore; reopen(): LogStore; cleanup(): void };
}

export const storeKinds: StoreKind[] = [
  {
    name: 'memory',
    create() {
      const store = new MemoryStore();
      return { store, reopen: () => store, cleanup() {} };
    },
  },
  {
    name: 'leveldb',
    create() {
      const dir = mkdtempSync(join(tmpdir(), 'vellum-test-'));
      return {
        store: new LevelStore(dir),
        reopen: () => new LevelStore(dir),
        cleanup: () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
];

export type Fault = 'before' | 'after' | undefined;

/**
 * Wraps a store and fails the next commit: 'before' persists nothing, 'after' persists the
 * batch and still reports failure (the caller cannot tell which happened).
 */
export class FaultyStore implements LogStore {
  fault: Fault;
  commits = 0;
  /** While set, commits wait for it before writing (to hold a batch mid-commit). */
  hold: Promise<void> | undefined;
  /** Commits started and not yet finished. */
  inFlight = 0;
  /** findLeafHashes calls made while a commit was in flight. */
  lookupsDuringCommit = 0;
  constructor(readonly inner: LogStore) {}
  open(origin: string) {
    return this.inner.open(origin);
  }
  latestCheckpoint() {
    return this.inner.latestCheckpoint();
  }
  checkpointCovering(index: bigint) {
    return this.inner.checkpointCovering(index);
  }
  readTile(tile: TileId, width: number, into?: Uint8Array) {
    return this.inner.readTile(tile, width, into);
  }
  readEntries(start: bigint, end: bigint) {
    return this.inner.readEntries(start, end);
  }
  findLeafHashes(h: readonly Uint8Array[]) {
    if (this.inFlight > 0) this.lookupsDuringCommit++;
    return this.inner.findLeafHashes(h);
  }
  stage(batch: IntegrationBatch) {
    // Forwarded, so a batch that fails here, before reaching the store, leaves staged bytes
    // behind for the store to ignore.
    this.inner.stage?.(batch);
  }
  async commit(batch: IntegrationBatch) {
    this.inFlight++;
    try {
      await this.hold;
      const fault = this.fault;
      this.fault = undefined;
      if (fault === 'before') throw new VellumError('STORAGE', 'injected fault before persisting');
      await this.inner.commit(batch);
      this.commits++;
      if (fault === 'after') throw new VellumError('STORAGE', 'injected fault after persisting');
    } finally {
      this.inFlight--;
    }
  }
  close() {
    return this.inner.close();
  }
}

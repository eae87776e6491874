// The one storage interface of the log (DESIGN §2). Implementations: LevelDB (level-store.ts)
// and memory (memory-store.ts); test/storage/conformance.ts holds them both to this contract.
import { VellumError } from '../error.js';
import type { TileId } from '../merkle/tiles.js';

/** A hash tile's full content at some width: `width` hashes of 32 bytes, concatenated. */
export interface TileData extends TileId {
  readonly width: number;
  readonly hashes: Uint8Array;
}

/** Everything one integration writes, committed as a single atomic unit. */
export interface IntegrationBatch {
  /** Committed size before the batch; the new entries get indexes size1 … size2−1. */
  readonly size1: bigint;
  readonly size2: bigint;
  readonly entries: readonly Uint8Array[];
  /** leafHashes[i] is the leaf hash of entries[i]: the dedup index rows. */
  readonly leafHashes: readonly Uint8Array[];
  /** Every tile whose content changed, at its width for size2. */
  readonly tiles: readonly TileData[];
  /** The signed checkpoint note for size2. */
  readonly checkpoint: Uint8Array;
}

/**
 * Contract:
 * - `commit` is atomic and, when the store is durable, persisted (fsync) before it resolves:
 *   after a crash at any moment, either all of a batch is visible or none of it.
 * - Commits are serialized by the caller: at most one is in flight, and batch.size1 equals the
 *   size of the latest committed checkpoint (the store rejects anything else with CORRUPT).
 * - Reads may run during a commit and see the state before or after it, never part of it.
 * - Missing data is `undefined`, never an error. Errors are VellumError('STORAGE') when the
 *   medium fails and VellumError('CORRUPT') when the stored data contradicts itself.
 * - A full tile (width 256) never changes once committed. A partial tile is replaced by the
 *   batch that widens it: only the width for the latest committed size is kept (narrower
 *   views are prefixes of it).
 */
export interface LogStore {
  /** The origin the store was created for, and the schema check; call once before anything else. */
  open(origin: string): Promise<void>;
  /** The signed checkpoint note with the largest size, or undefined for an empty store. */
  latestCheckpoint(): Promise<Uint8Array | undefined>;
  /** The checkpoint committed with the smallest size > index: the one first covering that index. */
  checkpointCovering(index: bigint): Promise<Uint8Array | undefined>;
  /**
   * The tile stored at exactly that width, or undefined. Given `into` (at least width·32
   * bytes), a store may read the tile into it and return a view of it instead of new bytes.
   */
  readTile(tile: TileId, width: number, into?: Uint8Array): Promise<Uint8Array | undefined>;
  /** Entries [start, end) in order; stops early at the first missing index. */
  readEntries(start: bigint, end: bigint): Promise<Uint8Array[]>;
  /** The index of each leaf hash in the dedup index, or undefined. */
  findLeafHashes(leafHashes: readonly Uint8Array[]): Promise<(bigint | undefined)[]>;
  commit(batch: IntegrationBatch): Promise<void>;
  /**
   * Optional hint: a batch that will be passed to commit() (the same object), handed over
   * while an earlier batch may still be committing, so the store can start writing its
   * bytes. It must change nothing a reader or a later open can see, and commit() must be
   * correct whether or not it was called, with this batch or another.
   */
  stage?(batch: IntegrationBatch): void;
  close(): Promise<void>;
}

export const SCHEMA_VERSION = '3';

/**
 * The commit precondition every store enforces: a batch starts at the committed size (a new
 * store's first batch at 0). Anything else means the caller's view of the log is stale.
 */
export function checkCommitStart(committed: bigint | undefined, batch: IntegrationBatch): void {
  if (batch.size1 !== (committed ?? 0n)) {
    throw new VellumError(
      'CORRUPT',
      `commit from size ${batch.size1} but the store is at ${committed ?? 'empty'}`,
    );
  }
}

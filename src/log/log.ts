// The transparency log: sequencing, integration, checkpoint signing, proofs and entry reads.
import { isVellumError, VellumError } from '../error.js';
import { CompactRange } from '../merkle/compact-range.js';
import type { TreeHasher } from '../merkle/hash.js';
import { bytesEqual } from '../merkle/hash.js';
import { MAX_SAFE_SIZE, type NodeSource, RightEdges, walkInclusion } from '../merkle/inclusion-walk.js';
import {
  assembleProof,
  consistencyPlan,
  inclusionPlan,
  type NodeId,
  planNodes,
  rangeNodes,
} from '../merkle/proof-plan.js';
import { fullTilesOnPath, type TileId, tileSlot } from '../merkle/tiles.js';
import { nodeEd25519 } from '../node-ed25519.js';
import { nodeHasher } from '../node-hasher.js';
import { type Checkpoint, openCheckpoint, signCheckpoint } from '../note/checkpoint.js';
import { decodeUtf8, utf8 } from '../note/encoding.js';
import { type Signer, type Verifier, verifierOf } from '../note/keys.js';
import type { IntegrationBatch, LogStore } from '../storage/log-store.js';
import type { ExpandedTile } from './expanded-tile.js';
import { type PoolItem, Sequencer } from './sequencer.js';
import { TileCache } from './tile-cache.js';
import { type Extension, TreeState } from './tree-state.js';

export interface LogOptions {
  origin: string;
  /** The log's Ed25519 note key; its name should equal the origin (tlog-checkpoint). */
  signer: Signer;
  hasher?: TreeHasher;
  maxBatch?: number;
  maxDelayMs?: number;
  maxPending?: number;
  /** Largest entry accepted, in bytes. Default 64 KiB. */
  maxEntryBytes?: number;
  /** Most entries one read returns. */
  maxEntriesPerRead?: number;
  /** Full tiles kept expanded in memory (~16 KiB each). */
  tileCacheSize?: number;
  /** Told of every committed integration (for metrics). */
  onIntegrated?: (info: IntegrationInfo) => void;
}

export interface IntegrationInfo {
  /** Entries the batch added (duplicates excluded). */
  readonly entries: number;
  /** Appends the batch answered. */
  readonly appends: number;
  readonly seconds: number;
  readonly size: bigint;
}

export const LOG_DEFAULTS = {
  maxBatch: 1024,
  maxDelayMs: 0,
  maxPending: 65_536,
  maxEntryBytes: 64 * 1024,
  maxEntriesPerRead: 1024,
  tileCacheSize: 4096,
} as const;

export interface SignedCheckpoint {
  readonly checkpoint: Checkpoint;
  /** The signed note text. */
  readonly note: string;
}

/**
 * An append's answer. It is a Receipt: formatReceipt(result) is its c2sp.org/tlog-proof text.
 * Kept structured so adapters that batch many results send each checkpoint only once.
 */
export interface AppendResult {
  readonly index: bigint;
  readonly leafHash: Uint8Array;
  /** Inclusion proof in the checkpoint's tree. */
  readonly proof: readonly Uint8Array[];
  /** The signed checkpoint note that first covered the entry, and its tree size. */
  readonly checkpoint: string;
  readonly size: bigint;
  /** True when the entry was already in the log: index, proof and checkpoint are the original ones. */
  readonly duplicate: boolean;
}

/** A fresh entry's result; its inclusion proof is walked from memory when first read. */
class FreshResult implements AppendResult {
  readonly duplicate = false;
  readonly checkpoint: string;
  readonly size: bigint;
  #proof: Uint8Array[] | undefined;

  constructor(
    readonly index: bigint,
    readonly leafHash: Uint8Array,
    latest: SignedCheckpoint,
    /** Walks the proof on first read (a walker, not a closure per entry: less garbage). */
    private readonly walker: { path(index: bigint): Uint8Array[] | undefined },
  ) {
    this.checkpoint = latest.note;
    this.size = latest.checkpoint.size;
  }

  get proof(): Uint8Array[] {
    if (this.#proof === undefined) {
      const p = this.walker.path(this.index);
      if (p === undefined)
        throw new Error(`assertion failed: a node of index ${this.index}'s path is not in memory`);
      this.#proof = p;
    }
    return this.#proof;
  }
}

export interface InclusionProof {
  readonly index: bigint;
  readonly size: bigint;
  readonly leafHash: Uint8Array;
  readonly proof: Uint8Array[];
}

export interface ConsistencyProof {
  readonly size1: bigint;
  readonly size2: bigint;
  readonly proof: Uint8Array[];
}

const outOfRange = (m: string) => new VellumError('OUT_OF_RANGE', m);

export class TransparencyLog {
  readonly hasher: TreeHasher;
  readonly options: Required<Omit<LogOptions, 'hasher' | 'onIntegrated'>> & Pick<LogOptions, 'onIntegrated'>;
  readonly #store: LogStore;
  readonly #cache: TileCache;
  readonly #sequencer: Sequencer<AppendResult>;
  readonly #listeners = new Set<(c: SignedCheckpoint) => void>();
  /** Checks stored checkpoints (at open, and for duplicates' original receipts). */
  readonly #verifier: Verifier;
  /** The committed tree: what readers see. */
  #state!: TreeState;
  /** The tree after the last prepared batch, which may not be committed yet. */
  #tip!: TreeState;
  #latest!: SignedCheckpoint;
  /** Set when a commit failed: its outcome is unknown until the store is read again. */
  #needsReload = false;
  /** Bumped by every failed commit: batches prepared before it must not be written. */
  #generation = 0;
  /** Settles when the latest commit started has (never rejects). */
  #lastCommit: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(store: LogStore, options: LogOptions) {
    this.#store = store;
    this.hasher = options.hasher ?? nodeHasher;
    const { hasher: _, ...rest } = options;
    this.options = { ...LOG_DEFAULTS, ...rest };
    this.#cache = new TileCache(store, this.hasher, this.options.tileCacheSize);
    this.#verifier = verifierOf(options.signer, nodeEd25519);
    this.#sequencer = new Sequencer(this.options, (items) => this.#prepare(items));
  }

  /** Opens a log on a store, reading only its right edge; a new store gets a size-0 checkpoint. */
  static async open(store: LogStore, options: LogOptions): Promise<TransparencyLog> {
    const log = new TransparencyLog(store, options);
    await store.open(options.origin);
    await log.#load();
    if (log.#latest === undefined) {
      const state = TreeState.empty(log.hasher);
      const note = signCheckpoint(
        { origin: options.origin, size: 0n, rootHash: state.range.rootHash(), extensions: [] },
        [options.signer],
      );
      await store.commit({
        size1: 0n,
        size2: 0n,
        entries: [],
        leafHashes: [],
        tiles: [],
        checkpoint: utf8(note),
      });
      await log.#load();
    }
    return log;
  }

  /** (Re)reads the committed state: latest checkpoint, verified, and the right edge under it. */
  async #load(): Promise<void> {
    const bytes = await this.#store.latestCheckpoint();
    if (bytes === undefined) return;
    const note = decodeUtf8(bytes);
    if (note === undefined) throw new VellumError('CORRUPT', 'stored checkpoint is not UTF-8');
    const { checkpoint } = openCheckpoint(note, [this.#verifier], {
      origin: this.options.origin,
    });
    const state = await TreeState.restore(checkpoint.size, (t, w) => this.#store.readTile(t, w), this.hasher);
    if (!bytesEqual(state.range.rootHash(), checkpoint.rootHash)) {
      throw new VellumError(
        'CORRUPT',
        `stored tiles do not hash to the root of the size-${checkpoint.size} checkpoint`,
      );
    }
    this.#state = state;
    this.#tip = state;
    this.#latest = { checkpoint, note };
    this.#needsReload = false;
  }

  get size(): bigint {
    return this.#state.size;
  }

  latestCheckpoint(): SignedCheckpoint {
    return this.#latest;
  }

  /** Called with every checkpoint signed from now on, after it is committed. */
  onCheckpoint(listener: (c: SignedCheckpoint) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Appends one entry; resolves once it is committed, with its index and receipt. */
  append(entry: Uint8Array): Promise<AppendResult> {
    if (entry.length > this.options.maxEntryBytes) return Promise.reject(this.#tooLarge(entry, 'entry'));
    return this.#sequencer.submit(entry, this.hasher.leafHash(entry));
  }

  #tooLarge(entry: Uint8Array, what: string): VellumError {
    return new VellumError(
      'TOO_LARGE',
      `${what} is ${entry.length} bytes, the limit is ${this.options.maxEntryBytes}`,
    );
  }

  /**
   * Appends entries together, as one bulk writer's message: one result per entry, in order,
   * once all are committed. The whole call is refused (TOO_LARGE, PUSHBACK) before any entry
   * is taken; after that, a failed commit fails the call, and entries of batches that did
   * commit keep their indexes (a retry gets them back as duplicates).
   */
  appendMany(entries: readonly Uint8Array[]): Promise<AppendResult[]> {
    const leafHashes: Uint8Array[] = new Array(entries.length);
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      if (entry.length > this.options.maxEntryBytes)
        return Promise.reject(this.#tooLarge(entry, `entry ${i}`));
      leafHashes[i] = this.hasher.leafHash(entry);
    }
    return this.#sequencer.submitMany(entries, leafHashes);
  }

  /**
   * Prepares a batch on top of the previous one (which may still be committing): dedup lookups,
   * the tree extension and the signed checkpoint. Returns the commit, which the sequencer
   * starts only after the previous commit settled.
   */
  async #prepare(items: readonly PoolItem[]): Promise<() => Promise<AppendResult[]>> {
    const started = performance.now();
    const found = await this.#store.findLeafHashes(items.map((i) => i.leafHash));
    const fresh = items.filter((_, i) => found[i] === undefined);
    if (fresh.length === 0) {
      return () => this.#receipts(items, found, fresh, this.#state, [], this.#latest, started);
    }
    if (this.#needsReload) {
      // A commit failed: wait until it has settled, then read what is durable.
      await this.#lastCommit;
      if (this.#needsReload) await this.#reload();
    }
    // From here to setting the tip nothing awaits, so base and generation belong together.
    const generation = this.#generation;
    const base = this.#tip;
    const ext = base.extend(fresh.map((i) => i.leafHash));
    const checkpoint: Checkpoint = {
      origin: this.options.origin,
      size: ext.state.size,
      rootHash: ext.state.range.rootHash(),
      extensions: [],
    };
    const signed = { checkpoint, note: signCheckpoint(checkpoint, [this.options.signer]) };
    this.#tip = ext.state;
    const batch: IntegrationBatch = {
      size1: base.size,
      size2: ext.state.size,
      entries: fresh.map((i) => i.entry),
      leafHashes: fresh.map((i) => i.leafHash),
      tiles: ext.tiles,
      checkpoint: utf8(signed.note),
    };
    // The store may write this batch's bytes while the batch before it commits.
    this.#store.stage?.(batch);
    return () => {
      const done = this.#commit(generation, batch, ext, signed).then(() =>
        this.#receipts(items, found, fresh, ext.state, ext.completed, signed, started),
      );
      this.#lastCommit = done.then(
        () => {},
        () => {},
      );
      return done;
    };
  }

  async #commit(
    generation: number,
    batch: IntegrationBatch,
    ext: Extension,
    signed: SignedCheckpoint,
  ): Promise<void> {
    // Prepared on top of a batch whose commit failed: its tree may not be the durable one.
    if (generation !== this.#generation) {
      throw new VellumError('STORAGE', 'an earlier batch failed to commit; this one was not written');
    }
    try {
      await this.#store.commit(batch);
    } catch (e) {
      // The batch may or may not be on disk, and batches prepared on top of it are void. Re-read
      // the store now, so readers see what is durable; if that fails too, the next batch tries
      // again first.
      this.#generation++;
      this.#needsReload = true;
      await this.#reload().catch(() => {});
      // Whatever the store threw (a full disk, an I/O error), the caller sees a storage failure.
      throw isVellumError(e)
        ? e
        : new VellumError('STORAGE', `storage failed: ${(e as Error).message}`, undefined, { cause: e });
    }
    this.#state = ext.state;
    for (const t of ext.completed) this.#cache.add(t);
    this.#latest = signed;
    for (const l of this.#listeners) l(signed);
  }

  /** Re-reads the store after a failed commit and tells listeners if the checkpoint moved. */
  async #reload(): Promise<void> {
    const before = this.#latest;
    await this.#load();
    if (this.#latest.checkpoint.size !== before.checkpoint.size) {
      for (const l of this.#listeners) l(this.#latest);
    }
  }

  /**
   * One result per item of a committed batch: fresh entries in order, duplicates their
   * original. A fresh entry's inclusion proof is walked from memory when first read: the bulk
   * path reads two per run, not one per entry. The walk needs no cache: every node on a fresh
   * entry's path is on the batch's right edge or in a tile the batch completed (a full tile
   * holding a fresh leaf became full in this batch), and both are kept with the result.
   */
  async #receipts(
    items: readonly PoolItem[],
    found: readonly (bigint | undefined)[],
    fresh: readonly PoolItem[],
    state: TreeState,
    completed: readonly ExpandedTile[],
    latest: SignedCheckpoint,
    started: number,
  ): Promise<AppendResult[]> {
    let next = state.size - BigInt(fresh.length);
    const walk = this.#walker(state, completed);
    const pending: (AppendResult | Promise<AppendResult>)[] = [];
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      const old = found[i];
      if (old !== undefined) {
        pending.push(this.#originalReceipt(old, item.leafHash));
        continue;
      }
      const index = next++;
      if (walk.usable) {
        pending.push(new FreshResult(index, item.leafHash, latest, walk));
      } else {
        // Past 2^53 entries: the general path, eagerly.
        pending.push(
          this.#inclusion(state, index, state.size).then(
            (proof) => new FreshResult(index, item.leafHash, latest, { path: () => proof }),
          ),
        );
      }
    }
    const results = pending.some((p) => p instanceof Promise)
      ? await Promise.all(pending)
      : (pending as AppendResult[]);
    this.options.onIntegrated?.({
      entries: fresh.length,
      appends: items.length,
      seconds: (performance.now() - started) / 1000,
      size: state.size,
    });
    return results;
  }

  /** The receipt a duplicate append gets: its index, at the checkpoint that first covered it. */
  async #originalReceipt(index: bigint, leafHash: Uint8Array): Promise<AppendResult> {
    const bytes = await this.#store.checkpointCovering(index);
    const note = bytes && decodeUtf8(bytes);
    if (note === undefined) throw new VellumError('CORRUPT', `no checkpoint covers index ${index}`);
    const { checkpoint } = openCheckpoint(note, [this.#verifier]);
    const proof = await this.#inclusion(this.#state, index, checkpoint.size);
    return { index, leafHash, proof, checkpoint: note, size: checkpoint.size, duplicate: true };
  }

  /**
   * Inclusion proofs in the tree of `state` walked from memory without hashing (receipts and
   * batched proofs): path() is undefined when a node is not in memory, and the caller then
   * takes the general path; `usable` is false past the number fast path (2^53 entries).
   * Nodes come from the right edge, then `completed` tiles, then the cache.
   */
  #walker(
    state: TreeState,
    completed: readonly ExpandedTile[] = [],
  ): { usable: boolean; node: NodeSource; path(index: bigint): Uint8Array[] | undefined } {
    const node = this.#nodeSource(state, completed);
    if (state.size > BigInt(MAX_SAFE_SIZE)) return { usable: false, node, path: () => undefined };
    const size = Number(state.size);
    let edges: RightEdges | undefined; // built on first use: a batch of duplicates needs none
    return {
      usable: true,
      node,
      path: (index) => {
        edges ??= new RightEdges(state.range.peaks, CompactRange.peakLevels(state.size), size, this.hasher);
        return walkInclusion(Number(index), size, node, edges);
      },
    };
  }

  /**
   * Nodes by numbers from memory only: the right edge, then the given tiles, then cached full
   * tiles. Consecutive receipts of a batch share most of their path, so the last node seen at
   * each level is handed out again instead of a fresh view of the same bytes (views were most
   * of the garbage a batch's receipts made).
   */
  #nodeSource(state: TreeState, completed: readonly ExpandedTile[]): NodeSource {
    const own = new Map(completed.map((t) => [t.indexNumber * 64 + t.id.level, t]));
    const lastIndex: number[] = [];
    const lastNode: (Uint8Array | undefined)[] = [];
    return (level, index) => {
      if (lastIndex[level] === index) return lastNode[level];
      const tileLevel = level >> 3;
      const sub = level & 7;
      const first = index * 2 ** sub;
      const tileIndex = Math.floor(first / 256);
      const at = (first - tileIndex * 256) >> sub;
      const edge = state.edge.get(tileLevel);
      const tile =
        edge !== undefined && edge.indexNumber === tileIndex
          ? edge
          : (own.get(tileIndex * 64 + tileLevel) ?? this.#cache.peekNumber(tileLevel, tileIndex));
      const h = tile?.node(sub, at);
      lastIndex[level] = index;
      lastNode[level] = h;
      return h;
    };
  }

  /** Reads the hashes of nodes: right-edge ones from memory, the rest from full tiles. */
  async #readNodes(state: TreeState, nodes: readonly NodeId[]): Promise<Uint8Array[]> {
    const slots = nodes.map(tileSlot);
    const out = slots.map((s) => state.edgeNode(s) ?? this.#cache.peek(s.tile)?.nodeAt(s));
    if (out.includes(undefined)) {
      // Each node is read as its tile's load settles, not after all of them: a loaded tile's
      // buffer may be reused once the cache drops it (see TileCache).
      await Promise.all(
        out.map((h, i) =>
          h === undefined
            ? this.#cache.load(slots[i]!.tile).then((t) => {
                out[i] = t.nodeAt(slots[i]!);
              })
            : undefined,
        ),
      );
    }
    return out.map((h, i) => {
      if (h === undefined)
        throw new VellumError('CORRUPT', `node ${nodes[i]!.level}/${nodes[i]!.index} is missing`);
      return h;
    });
  }

  async #inclusion(state: TreeState, index: bigint, size: bigint): Promise<Uint8Array[]> {
    const plan = inclusionPlan(index, size);
    return assembleProof(plan, await this.#readNodes(state, planNodes(plan)), this.hasher);
  }

  #checkSize(size: bigint | undefined, state: TreeState): bigint {
    if (size === undefined) return this.#latest.checkpoint.size;
    if (size < 0n || size > state.size)
      throw outOfRange(`size ${size} is beyond the log's size ${state.size}`);
    return size;
  }

  /** Inclusion proof of the entry at index in the tree of `size` (default: the latest checkpoint). */
  async inclusionProof(index: bigint, size?: bigint): Promise<InclusionProof> {
    const state = this.#state;
    const s = this.#checkSize(size, state);
    if (index < 0n || index >= s) throw outOfRange(`index ${index} is not below size ${s}`);
    const [leafHash] = await this.#readNodes(state, [{ level: 0, index }]);
    return { index, size: s, leafHash: leafHash!, proof: await this.#inclusion(state, index, s) };
  }

  /**
   * Inclusion proofs of many entries in the tree of `size` (default: the latest checkpoint).
   * In the current tree they are walked from memory without hashing, as receipts are; the
   * rest, and any node not in memory, take the general path.
   */
  async inclusionProofs(indexes: readonly bigint[], size?: bigint): Promise<InclusionProof[]> {
    const state = this.#state;
    const s = this.#checkSize(size, state);
    for (const index of indexes)
      if (index < 0n || index >= s) throw outOfRange(`index ${index} is not below size ${s}`);
    if (s !== state.size || s > BigInt(MAX_SAFE_SIZE) || indexes.length === 0) {
      return Promise.all(indexes.map((i) => this.inclusionProof(i, s)));
    }
    const walkAll = (only?: readonly boolean[]) => {
      // A fresh walker each time: it remembers the nodes it found missing.
      const walk = this.#walker(state);
      return indexes.map((index, i): InclusionProof | undefined => {
        if (only !== undefined && !only[i]) return undefined;
        const leafHash = walk.node(0, Number(index));
        const proof = leafHash && walk.path(index);
        return proof ? { index, size: s, leafHash, proof } : undefined;
      });
    };
    const out = walkAll();
    const missed = out.map((p) => p === undefined);
    if (!missed.includes(true)) return out as InclusionProof[];
    // Read the full tiles the missed paths cross, each once, then walk those paths again from
    // memory: cheaper, and far less garbage, than a general proof per missed entry (on a log
    // larger than the cache, most of a batch). A tile dropped again meanwhile (the batch needs
    // more tiles than the cache holds) leaves its entries to the general path.
    const tiles = new Map<string, TileId>();
    for (const [i, index] of indexes.entries()) {
      if (missed[i]) for (const t of fullTilesOnPath(index, s)) tiles.set(`${t.level}/${t.index}`, t);
    }
    await Promise.all([...tiles.values()].map((t) => this.#cache.load(t)));
    const again = walkAll(missed);
    return Promise.all(out.map((p, i) => p ?? again[i] ?? this.inclusionProof(indexes[i]!, s)));
  }

  /** Inclusion proof by leaf hash; NOT_FOUND if the tree of `size` does not hold it. */
  async inclusionProofByLeafHash(leafHash: Uint8Array, size?: bigint): Promise<InclusionProof> {
    const [index] = await this.#store.findLeafHashes([leafHash]);
    const s = this.#checkSize(size, this.#state);
    if (index === undefined || index >= s)
      throw new VellumError('NOT_FOUND', `no entry with that leaf hash in the tree of size ${s}`);
    return this.inclusionProof(index, s);
  }

  /** Proof that the tree of size1 is a prefix of the tree of size2 (default: the latest checkpoint). */
  async consistencyProof(size1: bigint, size2?: bigint): Promise<ConsistencyProof> {
    const state = this.#state;
    const s2 = this.#checkSize(size2, state);
    if (size1 < 0n || size1 > s2) throw outOfRange(`size1 ${size1} is not in [0, ${s2}]`);
    if (size1 === 0n || size1 === s2) return { size1, size2: s2, proof: [] };
    const plan = consistencyPlan(size1, s2);
    return {
      size1,
      size2: s2,
      proof: assembleProof(plan, await this.#readNodes(state, planNodes(plan)), this.hasher),
    };
  }

  /** MTH of the first `size` entries (any size up to the current one). */
  async rootAt(size: bigint): Promise<Uint8Array> {
    const state = this.#state;
    this.#checkSize(size, state);
    const nodes = rangeNodes(0n, size);
    if (nodes.length === 0) return this.hasher.emptyRoot();
    return assembleProof([nodes], await this.#readNodes(state, nodes), this.hasher)[0]!;
  }

  /** Entries [start, end) — at most maxEntriesPerRead — of the committed tree. */
  async getEntries(start: bigint, end: bigint): Promise<Uint8Array[]> {
    const size = this.#state.size;
    if (start < 0n || start >= size) throw outOfRange(`start ${start} is not below size ${size}`);
    if (end <= start) throw outOfRange(`end ${end} must be greater than start ${start}`);
    const last = [end, size, start + BigInt(this.options.maxEntriesPerRead)].reduce((a, b) =>
      a < b ? a : b,
    );
    const entries = await this.#store.readEntries(start, last);
    if (entries.length !== Number(last - start))
      throw new VellumError('CORRUPT', `entries missing in [${start}, ${last})`);
    return entries;
  }

  /** Refuses new appends (CLOSED) and answers every accepted one; reads keep working. */
  drain(): Promise<void> {
    return this.#sequencer.close();
  }

  /** Drains, then closes the store. */
  async close(): Promise<void> {
    await this.drain();
    if (!this.#closed) {
      this.#closed = true;
      await this.#store.close();
    }
  }
}

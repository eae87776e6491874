// The verifying TypeScript client. Every method returns only verified data: checkpoints are
// signature-checked and must extend the trusted one, proofs are checked against them, receipts
// are verified. A rollback or fork throws VellumError('INCONSISTENT') with the evidence.
import { create } from '@bufbuild/protobuf';
import type { ChannelCredentials } from '@grpc/grpc-js';
import { VellumError } from '../src/error.js';
import {
  type AppendResponse,
  AppendStreamRequestSchema,
  type AppendStreamResponse,
  type GetCheckpointResponse,
  type GetConsistencyProofResponse,
  type GetEntriesResponse,
  type GetEntryResponse,
  type GetInclusionProofResponse,
  type GetInclusionProofsResponse,
  type WatchCheckpointsResponse,
} from '../src/gen/vellum/v1/log_pb.js';
import { CompactRange } from '../src/merkle/compact-range.js';
import { bytesEqual, HASH_SIZE, type TreeHasher } from '../src/merkle/hash.js';
import { type VerifiedRange, verifyRange } from '../src/merkle/range-proof.js';
import { verifyConsistency, verifyInclusion } from '../src/merkle/verify.js';
import { InclusionVerifier } from '../src/merkle/verify-many.js';
import { nodeEd25519 } from '../src/node-ed25519.js';
import { nodeHasher } from '../src/node-hasher.js';
import { type Checkpoint, openCheckpoint, openCheckpointAsync } from '../src/note/checkpoint.js';
import { parseVerifierKey, type Verifier } from '../src/note/keys.js';
import { formatReceipt } from '../src/note/receipt.js';
import { createRawClient, type RawClient, rpcError } from './grpc.js';
import { readTrustedState, writeTrustedState } from './trusted-state.js';
import { advanceTrusted, type TrustedCheckpoint } from './verify.js';

export interface LogClientOptions {
  /** host:port of the vellum server. */
  address: string;
  /** The log's verifier key (vkey text) or a parsed Verifier. */
  verifierKey: string | Verifier;
  /** Expected origin; default: the verifier key's name. */
  origin?: string;
  /** File holding the trusted checkpoint; without it, trust lives only in this object. */
  trustedStatePath?: string;
  credentials?: ChannelCredentials;
  hasher?: TreeHasher;
}

export interface VerifiedAppend {
  readonly index: bigint;
  readonly leafHash: Uint8Array;
  readonly duplicate: boolean;
  /** The checkpoint covering the entry, verified, and its signed note. */
  readonly checkpoint: Checkpoint;
  readonly note: string;
  readonly proof: readonly Uint8Array[];
  /** c2sp.org/tlog-proof text, formatted when first read. */
  readonly receipt: string;
}

/** A checkpoint note whose signature verified, and a verifier of proofs in its tree. */
interface OpenedNote {
  readonly checkpoint: Checkpoint;
  readonly proofs: InclusionVerifier;
}

/** A note's check: pending or settled, and once it succeeded, its result at hand. */
interface NoteCheck {
  readonly opening: Promise<OpenedNote>;
  ready?: OpenedNote;
}

/** A verified append whose inclusion proof (and receipt text) is made when first read. */
class Appended implements VerifiedAppend {
  #proof: readonly Uint8Array[] | undefined;
  #receipt: string | undefined;

  constructor(
    readonly index: bigint,
    readonly leafHash: Uint8Array,
    readonly duplicate: boolean,
    readonly checkpoint: Checkpoint,
    readonly note: string,
    private readonly proofOf: () => readonly Uint8Array[],
  ) {}

  get proof(): readonly Uint8Array[] {
    this.#proof ??= this.proofOf();
    return this.#proof;
  }

  get receipt(): string {
    this.#receipt ??= formatReceipt({ index: this.index, proof: this.proof, checkpoint: this.note });
    return this.#receipt;
  }
}

/** Most hashes a range proof may carry: two paths in a tree of 2^64 leaves. */
const MAX_RANGE_PROOF = 128;

/** Views of the 32-byte hashes packed in a bytes field. */
function unpackHashes(packed: Uint8Array): Uint8Array[] {
  if (packed.length % HASH_SIZE !== 0 || packed.length > MAX_RANGE_PROOF * HASH_SIZE)
    throw new VellumError('VERIFICATION_FAILED', `a packed proof of ${packed.length} bytes`);
  const out: Uint8Array[] = [];
  for (let at = 0; at < packed.length; at += HASH_SIZE) out.push(packed.subarray(at, at + HASH_SIZE));
  return out;
}

export interface VerifiedInclusion {
  readonly index: bigint;
  readonly size: bigint;
  readonly leafHash: Uint8Array;
  readonly proof: Uint8Array[];
  readonly checkpoint: TrustedCheckpoint;
}

export interface VerifiedConsistency {
  readonly size1: bigint;
  readonly size2: bigint;
  readonly root1: Uint8Array;
  readonly root2: Uint8Array;
  readonly proof: Uint8Array[];
  readonly checkpoint: TrustedCheckpoint;
}

export interface AuditResult {
  readonly size: bigint;
  readonly rootHash: Uint8Array;
  readonly ok: boolean;
  /** The first index whose entry does not match the signed tree. */
  readonly firstBadIndex?: bigint;
}

export interface AppendManyOptions {
  /** Entries per AppendStream message. */
  chunkSize?: number;
  /** Messages awaiting their answer at once. */
  inFlight?: number;
  onProgress?: (done: number) => void;
  /** Told, per message, how long it took from sending to all its receipts verified. */
  onMessage?: (entries: number, ms: number) => void;
  /**
   * Given each message's verified receipts, in order, as they arrive. appendMany then keeps
   * none and resolves to an empty array: a bulk load's receipts need not fit in memory.
   */
  onReceipts?: (receipts: VerifiedAppend[]) => void;
}

export class LogClient {
  readonly verifier: Verifier;
  readonly origin: string;
  readonly #raw: RawClient;
  readonly #hasher: TreeHasher;
  readonly #statePath: string | undefined;
  #trusted: TrustedCheckpoint | undefined;

  constructor(options: LogClientOptions) {
    this.verifier =
      typeof options.verifierKey === 'string'
        ? parseVerifierKey(options.verifierKey, nodeEd25519)
        : options.verifierKey;
    this.origin = options.origin ?? this.verifier.name;
    this.#raw = createRawClient(options.address, options.credentials);
    // This module runs on Node (grpc-js), so it hashes with hash-wasm (~3× noble here);
    // client/verify.ts is the browser-safe part.
    this.#hasher = options.hasher ?? nodeHasher;
    this.#statePath = options.trustedStatePath;
    const stored = this.#statePath === undefined ? undefined : readTrustedState(this.#statePath);
    // A stored state is re-verified: it must carry this log's signature.
    this.#trusted =
      stored &&
      advanceTrusted({
        trusted: undefined,
        note: stored.note,
        proof: [],
        verifier: this.verifier,
        origin: this.origin,
      });
  }

  get trusted(): TrustedCheckpoint | undefined {
    return this.#trusted;
  }

  /** Accepts a signed checkpoint if it extends the trusted one (fetching the proof), and persists it. */
  async #accept(note: string): Promise<TrustedCheckpoint> {
    const t = this.#trusted;
    const opened = advanceTrusted({
      trusted: undefined,
      note,
      proof: [],
      verifier: this.verifier,
      origin: this.origin,
    });
    let proof: Uint8Array[] = [];
    if (t !== undefined && t.checkpoint.size > 0n && opened.checkpoint.size > t.checkpoint.size) {
      const res = await this.#raw.unary<GetConsistencyProofResponse>('getConsistencyProof', {
        size1: t.checkpoint.size,
        size2: opened.checkpoint.size,
      });
      proof = res.proof;
    }
    const next = advanceTrusted({
      trusted: t,
      note,
      proof,
      verifier: this.verifier,
      origin: this.origin,
      hasher: this.#hasher,
    });
    if (next !== t) {
      this.#trusted = next;
      if (this.#statePath !== undefined) writeTrustedState(this.#statePath, next);
    }
    return this.#trusted!;
  }

  /** The latest checkpoint, verified and consistent with everything trusted before. */
  async checkpoint(): Promise<TrustedCheckpoint> {
    const res = await this.#raw.unary<GetCheckpointResponse>('getCheckpoint', {});
    return this.#accept(res.checkpoint);
  }

  /**
   * Checkpoint notes whose signature is checked or being checked, each with a verifier for
   * proofs in its tree: every receipt of one batch carries the same note, an Ed25519 check
   * costs ~90 µs here (node:crypto), far more than a proof, and receipts of one batch share
   * most of their nodes.
   */
  readonly #notes = new Map<string, NoteCheck>();

  #remember(note: string, opening: Promise<OpenedNote>): NoteCheck {
    const entry: NoteCheck = { opening };
    opening.then(
      (opened) => {
        entry.ready = opened;
      },
      () => {}, // the caller awaiting `opening` gets the error
    );
    this.#notes.delete(note); // a replaced check does not count against the others
    if (this.#notes.size >= 16) this.#notes.delete(this.#notes.keys().next().value!);
    this.#notes.set(note, entry);
    return entry;
  }

  #opened(checkpoint: Checkpoint): OpenedNote {
    return { checkpoint, proofs: new InclusionVerifier(checkpoint.size, checkpoint.rootHash, this.#hasher) };
  }

  /** A note opened now, for a stream's answers, which are checked in order as they arrive. */
  #openNote(note: string): OpenedNote {
    const cached = this.#notes.get(note)?.ready;
    if (cached !== undefined) return cached;
    const opened = this.#opened(openCheckpoint(note, [this.verifier], { origin: this.origin }).checkpoint);
    this.#remember(note, Promise.resolve(opened)).ready = opened;
    return opened;
  }

  /**
   * A note opened with its signature checked in node:crypto's thread pool: unary answers of
   * one batch arrive together, and the event loop verifies their proofs (and sends the next
   * requests) while the signature is checked.
   */
  #openNoteAsync(note: string): Promise<OpenedNote> {
    const cached = this.#notes.get(note);
    if (cached !== undefined) return cached.opening;
    const opening = openCheckpointAsync(note, [this.verifier], { origin: this.origin });
    return this.#remember(
      note,
      opening.then(({ checkpoint }) => this.#opened(checkpoint)),
    ).opening;
  }

  /** Checks an append's answer: the leaf hash of our entry, in the signed tree, at the index. */
  async #checkAppended(entry: Uint8Array, r: AppendResponse): Promise<VerifiedAppend> {
    const leafHash = this.#hasher.leafHash(entry);
    if (!bytesEqual(leafHash, r.leafHash))
      throw new VellumError('VERIFICATION_FAILED', 'server returned another leaf hash');
    const proof = unpackHashes(r.proof);
    const { checkpoint, proofs } = await this.#openNoteAsync(r.checkpoint);
    proofs.verify({ index: r.index, leafHash, proof });
    return new Appended(r.index, leafHash, r.duplicate, checkpoint, r.checkpoint, () => proof);
  }

  /**
   * Checks an AppendStream answer against the entries sent: the runs must account for every
   * entry in order, and each run's range proof must lead from our own leaf hashes to the root
   * of a checkpoint signed by the log. Each entry's inclusion proof is derived when read.
   */
  #checkRuns(chunk: readonly Uint8Array[], res: AppendStreamResponse): VerifiedAppend[] {
    const fail = (m: string) => new VellumError('VERIFICATION_FAILED', m);
    const out: VerifiedAppend[] = [];
    let at = 0;
    for (const run of res.runs) {
      const note = res.checkpoints[run.checkpoint];
      if (note === undefined) throw fail('a run refers to a missing checkpoint');
      if (run.count < 1 || at + run.count > chunk.length) throw fail('runs do not match the request');
      if (run.duplicate && run.count !== 1) throw fail('a duplicate run of more than one entry');
      const { checkpoint } = this.#openNote(note);
      const leafHashes = chunk.slice(at, at + run.count).map((e) => this.#hasher.leafHash(e));
      const input = {
        start: run.index,
        size: checkpoint.size,
        leafHashes,
        proof: unpackHashes(run.proof),
        rootHash: checkpoint.rootHash,
      };
      verifyRange(input, this.#hasher);
      // Receipts are rarely all read: the nodes for them are hashed again only on demand.
      // A run of one entry carries its inclusion proof as it is.
      let range: VerifiedRange | undefined;
      const proofOf = (index: bigint) => () => {
        if (run.count === 1) return input.proof;
        range ??= verifyRange(input, this.#hasher, { keepNodes: true });
        return range.inclusionProof(index);
      };
      for (let i = 0; i < run.count; i++) {
        const index = run.index + BigInt(i);
        out.push(new Appended(index, leafHashes[i]!, run.duplicate, checkpoint, note, proofOf(index)));
      }
      at += run.count;
    }
    if (at !== chunk.length) throw fail('wrong number of results');
    return out;
  }

  async append(entry: Uint8Array): Promise<VerifiedAppend> {
    return this.#checkAppended(entry, await this.#raw.unary<AppendResponse>('append', { entry }));
  }

  /** Bulk append over AppendStream, many entries per message, several messages in flight. */
  async appendMany(
    entries: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
    options: AppendManyOptions = {},
  ): Promise<VerifiedAppend[]> {
    const chunkSize = options.chunkSize ?? 1000;
    const inFlight = options.inFlight ?? 4;
    const call = this.#raw.duplex<unknown, AppendStreamResponse>('appendStream');
    const sent: Uint8Array[][] = [];
    const sentAt: number[] = [];
    const results: VerifiedAppend[] = [];
    let answered = 0;
    let received = 0;
    let wake: (() => void) | undefined;
    let failure: unknown;
    const done = new Promise<void>((resolve, reject) => {
      call.on('data', (res: AppendStreamResponse) => {
        try {
          const chunk = sent[answered++]!;
          const verified = this.#checkRuns(chunk, res);
          sent[answered - 1] = [];
          received += verified.length;
          if (options.onReceipts) options.onReceipts(verified);
          else results.push(...verified);
          options.onProgress?.(received);
          options.onMessage?.(chunk.length, performance.now() - sentAt[answered - 1]!);
        } catch (e) {
          failure = e;
          call.cancel();
          reject(e);
        }
        wake?.();
      });
      call.on('error', (e) => {
        failure ??= rpcError(e);
        reject(failure);
        wake?.();
      });
      call.on('end', () => resolve());
    });
    done.catch(() => {});
    let chunk: Uint8Array[] = [];
    const flush = async () => {
      while (sent.length - answered >= inFlight && failure === undefined)
        await new Promise<void>((r) => (wake = r));
      if (failure !== undefined) throw failure;
      sent.push(chunk);
      sentAt.push(performance.now());
      if (!call.write(create(AppendStreamRequestSchema, { entries: chunk }))) {
        await new Promise((r) => call.once('drain', r));
      }
      chunk = [];
    };
    for await (const e of entries) {
      chunk.push(e);
      if (chunk.length === chunkSize) await flush();
    }
    if (chunk.length > 0) await flush();
    call.end();
    await done;
    return results;
  }

  /** The authenticated root of any size up to the trusted one (via a consistency proof). */
  async #rootAt(size: bigint, latest: TrustedCheckpoint): Promise<Uint8Array> {
    if (size === latest.checkpoint.size) return latest.checkpoint.rootHash;
    if (size > latest.checkpoint.size)
      throw new VellumError('OUT_OF_RANGE', `size ${size} is beyond the checkpoint`);
    const c = await this.#consistency(size, latest);
    return c.root1;
  }

  async #consistency(size1: bigint, latest: TrustedCheckpoint): Promise<VerifiedConsistency> {
    const size2 = latest.checkpoint.size;
    const res = await this.#raw.unary<GetConsistencyProofResponse>('getConsistencyProof', { size1, size2 });
    const input = { size1, size2, root1: res.root1, root2: latest.checkpoint.rootHash, proof: res.proof };
    verifyConsistency(input, this.#hasher);
    return { ...input, checkpoint: latest };
  }

  /**
   * The trusted checkpoint a proof of `size` is checked under: the one already trusted when it
   * covers size (no extra round trip), else the latest, fetched and checked for consistency.
   */
  async #latestFor(size: bigint | undefined): Promise<TrustedCheckpoint> {
    const t = this.#trusted;
    if (size !== undefined && t !== undefined && size <= t.checkpoint.size) return t;
    return this.checkpoint();
  }

  /** Inclusion of an entry (by index or leaf hash) in the tree of `size` (default: latest). */
  async inclusionProof(leaf: bigint | Uint8Array, size?: bigint): Promise<VerifiedInclusion> {
    const latest = await this.#latestFor(size);
    const s = size ?? latest.checkpoint.size;
    const request =
      typeof leaf === 'bigint'
        ? { leaf: { case: 'index', value: leaf }, size: s }
        : { leaf: { case: 'leafHash', value: leaf }, size: s };
    const res = await this.#raw.unary<GetInclusionProofResponse>('getInclusionProof', request);
    if (typeof leaf !== 'bigint' && !bytesEqual(leaf, res.leafHash))
      throw new VellumError('VERIFICATION_FAILED', 'proof is for another leaf');
    const rootHash = await this.#rootAt(s, latest);
    const proof = { index: res.index, size: s, leafHash: res.leafHash, proof: res.proof };
    verifyInclusion({ ...proof, rootHash }, this.#hasher);
    return { ...proof, checkpoint: latest };
  }

  /**
   * Inclusion of many entries by index (at most the server's cap per call, 1,000 by default)
   * in the tree of `size` (default: latest), in one round trip, every proof verified.
   */
  async inclusionProofs(indexes: readonly bigint[], size?: bigint): Promise<VerifiedInclusion[]> {
    const latest = await this.#latestFor(size);
    const s = size ?? latest.checkpoint.size;
    const res = await this.#raw.unary<GetInclusionProofsResponse>('getInclusionProofs', {
      indexes: [...indexes],
      size: s,
    });
    if (res.proofs.length !== indexes.length)
      throw new VellumError('VERIFICATION_FAILED', 'wrong number of proofs');
    const verifier = new InclusionVerifier(s, await this.#rootAt(s, latest), this.#hasher);
    return res.proofs.map((p, i) => {
      if (p.index !== indexes[i] || p.size !== s)
        throw new VellumError('VERIFICATION_FAILED', `proof ${i} is for another index or size`);
      verifier.verify(p);
      return { index: p.index, size: s, leafHash: p.leafHash, proof: p.proof, checkpoint: latest };
    });
  }

  /** Consistency of size1 with size2 (default: latest), both roots authenticated. */
  async consistencyProof(size1: bigint, size2?: bigint): Promise<VerifiedConsistency> {
    const latest = await this.#latestFor(size2);
    const s2 = size2 ?? latest.checkpoint.size;
    if (s2 === latest.checkpoint.size) return this.#consistency(size1, latest);
    const root2 = await this.#rootAt(s2, latest);
    const res = await this.#raw.unary<GetConsistencyProofResponse>('getConsistencyProof', {
      size1,
      size2: s2,
    });
    const input = { size1, size2: s2, root1: res.root1, root2, proof: res.proof };
    verifyConsistency(input, this.#hasher);
    return { ...input, checkpoint: latest };
  }

  /** One entry, with its inclusion in the latest checkpoint verified. */
  async getEntry(index: bigint): Promise<{ index: bigint; leafHash: Uint8Array; entry: Uint8Array }> {
    const res = await this.#raw.unary<GetEntryResponse>('getEntry', { index });
    const proof = await this.inclusionProof(index);
    const leafHash = this.#hasher.leafHash(res.entry);
    if (!bytesEqual(leafHash, proof.leafHash))
      throw new VellumError('VERIFICATION_FAILED', `entry ${index} does not match the tree`);
    return { index, leafHash, entry: res.entry };
  }

  /** Raw entries [start, end), unverified (audit verifies them all against the root). */
  async *entries(start: bigint, end: bigint): AsyncGenerator<Uint8Array[]> {
    for (let at = start; at < end; ) {
      const stream = this.#raw.serverStream<GetEntriesResponse>('getEntries', { start: at, end });
      const before = at;
      try {
        for await (const chunk of stream as AsyncIterable<GetEntriesResponse>) {
          if (chunk.start !== at) throw new VellumError('VERIFICATION_FAILED', 'entries out of order');
          at += BigInt(chunk.entries.length);
          yield chunk.entries;
        }
      } catch (e) {
        throw e instanceof VellumError ? e : rpcError(e);
      }
      if (at === before) throw new VellumError('VERIFICATION_FAILED', `server returned no entries at ${at}`);
    }
  }

  /** Downloads every entry, recomputes every leaf hash and the root, and checks the signed checkpoint. */
  async audit(onProgress?: (done: bigint, total: bigint) => void): Promise<AuditResult> {
    const latest = await this.checkpoint();
    const { size, rootHash } = latest.checkpoint;
    const leafHashes: Uint8Array[] = [];
    const range = new CompactRange(0n, [], this.#hasher);
    for await (const chunk of this.entries(0n, size)) {
      for (const e of chunk) {
        const h = this.#hasher.leafHash(e);
        leafHashes.push(h);
        range.append(h);
      }
      onProgress?.(BigInt(leafHashes.length), size);
    }
    if (bytesEqual(range.rootHash(), rootHash)) return { size, rootHash, ok: true };
    // Binary search for the first prefix whose recomputed root differs from the signed tree's.
    const prefixRoot = (k: bigint) => {
      const r = new CompactRange(0n, [], this.#hasher);
      for (const h of leafHashes.slice(0, Number(k))) r.append(h);
      return r.rootHash();
    };
    let lo = 1n;
    let hi = size;
    while (lo < hi) {
      const mid = (lo + hi) / 2n;
      if (bytesEqual(prefixRoot(mid), await this.#rootAt(mid, latest))) lo = mid + 1n;
      else hi = mid;
    }
    return { size, rootHash, ok: false, firstBadIndex: lo - 1n };
  }

  /** Follows new checkpoints; each is verified consistent with the last before `onCheckpoint` sees it. */
  watch(onCheckpoint: (c: TrustedCheckpoint) => void, onError: (e: unknown) => void): () => void {
    const stream = this.#raw.serverStream<WatchCheckpointsResponse>('watchCheckpoints', {});
    let chain = Promise.resolve();
    stream.on('data', (res: WatchCheckpointsResponse) => {
      chain = chain
        .then(async () => onCheckpoint(await this.#accept(res.checkpoint!.checkpoint)))
        .catch((e) => {
          stream.cancel();
          onError(e);
        });
    });
    stream.on('error', (e: { code?: number }) => {
      if (e.code !== 1) onError(rpcError(e)); // 1 = CANCELLED, our own stop
    });
    return () => stream.cancel();
  }

  close(): void {
    this.#raw.grpc.close();
  }
}

export function createLogClient(options: LogClientOptions): LogClient {
  return new LogClient(options);
}

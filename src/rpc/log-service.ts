// The gRPC adapter of the log: one handler ≈ decode, call the log, encode (DESIGN §8.7).
import { create } from '@bufbuild/protobuf';
import type {
  ServerDuplexStream,
  ServerUnaryCall,
  ServerWritableStream,
  sendUnaryData,
  status,
  UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { VellumError } from '../error.js';
import {
  type AppendedRun,
  AppendedRunSchema,
  type AppendRequest,
  type AppendResponse,
  AppendResponseSchema,
  type AppendStreamRequest,
  type AppendStreamResponse,
  AppendStreamResponseSchema,
  type GetCheckpointResponse,
  GetCheckpointResponseSchema,
  type GetConsistencyProofRequest,
  GetConsistencyProofResponseSchema,
  type GetEntriesRequest,
  GetEntriesResponseSchema,
  type GetEntryRequest,
  GetEntryResponseSchema,
  type GetInclusionProofRequest,
  type GetInclusionProofResponse,
  GetInclusionProofResponseSchema,
  type GetInclusionProofsRequest,
  GetInclusionProofsResponseSchema,
  type WatchCheckpointsRequest,
  type WatchCheckpointsResponse,
  WatchCheckpointsResponseSchema,
} from '../gen/vellum/v1/log_pb.js';
import type { AppendResult, InclusionProof, SignedCheckpoint, TransparencyLog } from '../log/log.js';
import { HASH_SIZE } from '../merkle/hash.js';
import { rangeProofFromPaths } from '../merkle/range-proof.js';
import { concatBytes } from '../note/encoding.js';
import { UndecodableMessage } from './grpc-definition.js';
import type { RpcLimits } from './limits.js';
import { type RpcError, toStatus } from './status.js';

export interface ServiceHooks {
  /** Told of every failed call, with its gRPC status code. */
  onError?: (method: string, code: status) => void;
}

const bad = (m: string) => new VellumError('MALFORMED', m);

function checkpointMessage(c: SignedCheckpoint): GetCheckpointResponse {
  return create(GetCheckpointResponseSchema, {
    checkpoint: c.note,
    origin: c.checkpoint.origin,
    size: c.checkpoint.size,
    rootHash: c.checkpoint.rootHash,
  });
}

const appendMessage = (r: AppendResult): AppendResponse =>
  create(AppendResponseSchema, {
    index: r.index,
    leafHash: r.leafHash,
    duplicate: r.duplicate,
    checkpoint: r.checkpoint,
    proof: concatBytes(...r.proof),
  });

/**
 * The compact stream answer: each checkpoint note once, and the results cut into runs of
 * consecutive indexes under one checkpoint, each with one range proof taken from the
 * inclusion proofs of its first and last entries. A duplicate is a run of its own.
 */
function appendStreamMessage(results: readonly AppendResult[]): AppendStreamResponse {
  const checkpoints: string[] = [];
  const runs: AppendedRun[] = [];
  for (let i = 0; i < results.length; ) {
    const first = results[i]!;
    let j = i + 1;
    if (!first.duplicate) {
      while (j < results.length) {
        const r = results[j]!;
        if (r.duplicate || r.checkpoint !== first.checkpoint || r.index !== first.index + BigInt(j - i))
          break;
        j++;
      }
    }
    const last = results[j - 1]!;
    let checkpoint = checkpoints.lastIndexOf(first.checkpoint);
    if (checkpoint < 0) checkpoint = checkpoints.push(first.checkpoint) - 1;
    const proof = rangeProofFromPaths(first.index, last.index + 1n, first.size, first.proof, last.proof);
    runs.push(
      create(AppendedRunSchema, {
        index: first.index,
        count: j - i,
        checkpoint,
        proof: concatBytes(...proof), // one bytes field: one allocation, not one per hash
        duplicate: first.duplicate,
      }),
    );
    i = j;
  }
  return create(AppendStreamResponseSchema, { runs, checkpoints });
}

const proofMessage = (p: InclusionProof, checkpoint = ''): GetInclusionProofResponse =>
  create(GetInclusionProofResponseSchema, { ...p, checkpoint });

/** The checkpoint to hand back with a proof when the caller asked for "latest". */
function latestIfSize(log: TransparencyLog, size: bigint, asked: bigint | undefined): string {
  const latest = log.latestCheckpoint();
  return asked === undefined && latest.checkpoint.size === size ? latest.note : '';
}

export class LogServiceHandlers {
  readonly #watchers = new Set<ServerWritableStream<WatchCheckpointsRequest, WatchCheckpointsResponse>>();
  #draining = false;

  constructor(
    private readonly log: TransparencyLog,
    private readonly limits: RpcLimits,
    private readonly hooks: ServiceHooks = {},
  ) {}

  #fail(method: string, e: unknown): RpcError {
    const s = toStatus(e);
    this.hooks.onError?.(method, s.code);
    return s;
  }

  /** Wraps a unary handler: undecodable input → INVALID_ARGUMENT, domain errors → status. */
  #unary<Req, Res>(method: string, f: (req: Req) => Promise<Res>) {
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      if (call.request instanceof UndecodableMessage) {
        callback(this.#fail(method, bad(`request does not decode: ${call.request.reason}`)));
        return;
      }
      f(call.request).then(
        (res) => callback(null, res),
        (e) => callback(this.#fail(method, e)),
      );
    };
  }

  implementation(): UntypedServiceImplementation {
    const log = this.log;
    return {
      append: this.#unary('Append', async (req: AppendRequest) => appendMessage(await log.append(req.entry))),
      appendStream: (call: ServerDuplexStream<AppendStreamRequest, AppendStreamResponse>) =>
        this.#appendStream(call),
      getCheckpoint: this.#unary('GetCheckpoint', async () => checkpointMessage(log.latestCheckpoint())),
      watchCheckpoints: (call: ServerWritableStream<WatchCheckpointsRequest, WatchCheckpointsResponse>) =>
        this.#watch(call),
      getInclusionProof: this.#unary('GetInclusionProof', async (req: GetInclusionProofRequest) => {
        let p: InclusionProof;
        if (req.leaf.case === 'index') p = await log.inclusionProof(req.leaf.value, req.size);
        else if (req.leaf.case === 'leafHash') {
          if (req.leaf.value.length !== HASH_SIZE) throw bad(`leaf_hash must be ${HASH_SIZE} bytes`);
          p = await log.inclusionProofByLeafHash(req.leaf.value, req.size);
        } else throw bad('set index or leaf_hash');
        return proofMessage(p, latestIfSize(log, p.size, req.size));
      }),
      getInclusionProofs: this.#unary('GetInclusionProofs', async (req: GetInclusionProofsRequest) => {
        if (req.indexes.length > this.limits.maxProofsPerCall) {
          throw new VellumError('TOO_LARGE', `at most ${this.limits.maxProofsPerCall} proofs per call`);
        }
        const size = req.size ?? log.latestCheckpoint().checkpoint.size;
        const checkpoint = latestIfSize(log, size, req.size);
        const proofs = await log.inclusionProofs(req.indexes, size);
        return create(GetInclusionProofsResponseSchema, {
          proofs: proofs.map((p) => proofMessage(p)),
          checkpoint,
        });
      }),
      getConsistencyProof: this.#unary('GetConsistencyProof', async (req: GetConsistencyProofRequest) => {
        const p = await log.consistencyProof(req.size1, req.size2);
        const [root1, root2] = await Promise.all([log.rootAt(p.size1), log.rootAt(p.size2)]);
        const checkpoint = latestIfSize(log, p.size2, req.size2);
        return create(GetConsistencyProofResponseSchema, { ...p, root1, root2, checkpoint });
      }),
      getEntries: (call: ServerWritableStream<GetEntriesRequest, never>) => this.#getEntries(call),
      getEntry: this.#unary('GetEntry', async (req: GetEntryRequest) => {
        const [entry] = await log.getEntries(req.index, req.index + 1n);
        return create(GetEntryResponseSchema, {
          index: req.index,
          entry: entry!,
          leafHash: log.hasher.leafHash(entry!),
        });
      }),
    };
  }

  async #getEntries(call: ServerWritableStream<GetEntriesRequest, never>): Promise<void> {
    const req = call.request;
    try {
      if (req instanceof UndecodableMessage) throw bad(`request does not decode: ${req.reason}`);
      const size = this.log.size;
      if (req.start >= size)
        throw new VellumError('OUT_OF_RANGE', `start ${req.start} is not below size ${size}`);
      if (req.end <= req.start)
        throw new VellumError('OUT_OF_RANGE', `end ${req.end} must be greater than start ${req.start}`);
      const cap = req.start + BigInt(this.limits.maxEntriesPerCall);
      const end = [req.end, size, cap].reduce((a, b) => (a < b ? a : b));
      for (let at = req.start; at < end && !call.cancelled; ) {
        const entries = await this.log.getEntries(at, end);
        const ok = call.write(create(GetEntriesResponseSchema, { start: at, entries }) as never);
        at += BigInt(entries.length);
        if (!ok) await new Promise((r) => call.once('drain', r));
      }
      call.end();
    } catch (e) {
      call.emit('error', this.#fail('GetEntries', e));
    }
  }

  #appendStream(call: ServerDuplexStream<AppendStreamRequest, AppendStreamResponse>): void {
    // Responses leave in request order; while maxMessagesInFlight requests are being appended
    // the stream is paused, so a fast writer cannot pin unbounded memory.
    const queue: Promise<AppendStreamResponse>[] = [];
    let pumping = false;
    let ended = false;
    let failed = false;
    const fail = (e: unknown) => {
      if (failed) return;
      failed = true;
      call.emit('error', this.#fail('AppendStream', e));
    };
    const pump = async () => {
      if (pumping) return;
      pumping = true;
      while (queue.length > 0 && !failed) {
        let res: AppendStreamResponse;
        try {
          res = await queue[0]!;
        } catch (e) {
          fail(e);
          break;
        }
        queue.shift();
        if (queue.length < this.limits.maxMessagesInFlight) call.resume();
        if (!call.write(res)) await new Promise((r) => call.once('drain', r));
      }
      pumping = false;
      if (ended && queue.length === 0 && !failed) call.end();
    };
    call.on('data', (req: AppendStreamRequest | UndecodableMessage) => {
      if (failed) return;
      if (req instanceof UndecodableMessage) return fail(bad(`request does not decode: ${req.reason}`));
      if (this.#draining) return fail(new VellumError('CLOSED', 'the server is shutting down'));
      if (req.entries.length > this.limits.maxEntriesPerMessage) {
        return fail(
          new VellumError('TOO_LARGE', `at most ${this.limits.maxEntriesPerMessage} entries per message`),
        );
      }
      const p = this.log.appendMany(req.entries).then(appendStreamMessage);
      p.catch(() => {}); // observed by pump, in order
      queue.push(p);
      if (queue.length >= this.limits.maxMessagesInFlight) call.pause();
      void pump();
    });
    call.on('end', () => {
      ended = true;
      void pump();
    });
    call.on('error', () => {
      failed = true;
    });
  }

  #watch(call: ServerWritableStream<WatchCheckpointsRequest, WatchCheckpointsResponse>): void {
    if (this.#draining) {
      call.emit(
        'error',
        this.#fail('WatchCheckpoints', new VellumError('CLOSED', 'the server is shutting down')),
      );
      return;
    }
    if (this.#watchers.size >= this.limits.maxWatchers) {
      call.emit('error', this.#fail('WatchCheckpoints', new VellumError('PUSHBACK', 'too many watchers')));
      return;
    }
    // A slow reader never queues more than one checkpoint: the newest replaces an unsent one.
    let blocked = false;
    let unsent: SignedCheckpoint | undefined;
    const send = (c: SignedCheckpoint) => {
      if (blocked) {
        unsent = c;
        return;
      }
      blocked = !call.write(create(WatchCheckpointsResponseSchema, { checkpoint: checkpointMessage(c) }));
    };
    call.on('drain', () => {
      blocked = false;
      const c = unsent;
      unsent = undefined;
      if (c) send(c);
    });
    const stop = this.log.onCheckpoint(send);
    this.#watchers.add(call);
    const done = () => {
      stop();
      this.#watchers.delete(call);
    };
    call.on('cancelled', done);
    call.on('close', done);
    call.on('finish', done);
    send(this.log.latestCheckpoint());
  }

  /** Stops taking stream appends and ends every watch stream (shutdown, step one). */
  drain(): void {
    this.#draining = true;
    for (const w of this.#watchers) w.end();
    this.#watchers.clear();
  }
}

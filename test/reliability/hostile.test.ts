// Hostile input over real gRPC: random bytes to every method, extreme field values, slow and
// abandoned streams, overload. No crash, no hang, the right status, and the server keeps serving.
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import {
  type Client,
  credentials,
  makeGenericClientConstructor,
  ServerCredentials,
  status,
} from '@grpc/grpc-js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRawClient, type RawClient } from '../../client/grpc.js';
import type { VellumError } from '../../src/error.js';
import { AppendStreamRequestSchema, LogService } from '../../src/gen/vellum/v1/log_pb.js';
import { TransparencyLog } from '../../src/log/log.js';
import { RPC_DEFAULTS } from '../../src/rpc/limits.js';
import { LogServiceHandlers } from '../../src/rpc/log-service.js';
import { startRpcServer } from '../../src/rpc/server.js';
import { LevelStore } from '../../src/storage/level-store.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { openLog, signer, verifier } from '../helpers/log.js';
import { checkFullLog } from '../helpers/log-check.js';
import { FaultyStore } from '../helpers/stores.js';
import { utf8 } from '../helpers/vectors.js';

const ALLOWED = new Set([
  status.OK,
  status.INVALID_ARGUMENT,
  status.OUT_OF_RANGE,
  status.NOT_FOUND,
  status.RESOURCE_EXHAUSTED,
]);
const dir = mkdtempSync(join(tmpdir(), 'vellum-hostile-'));
let log: TransparencyLog;
let server: Awaited<ReturnType<typeof startRpcServer>>;
let address: string;
let raw: RawClient;

beforeAll(async () => {
  log = await TransparencyLog.open(new LevelStore(join(dir, 'db')), {
    origin: verifier.name,
    signer,
    maxEntryBytes: 4096,
  });
  await Promise.all(Array.from({ length: 300 }, (_, i) => log.append(utf8(`seed ${i}`))));
  server = await startRpcServer({
    log,
    listen: '127.0.0.1:0',
    credentials: ServerCredentials.createInsecure(),
    limits: { maxMessageBytes: 1 << 20 },
  });
  address = `127.0.0.1:${server.port}`;
  raw = createRawClient(address);
});
afterAll(async () => {
  raw.grpc.close();
  await server.shutdown(1000);
  rmSync(dir, { recursive: true, force: true });
});

/** A client that sends raw bytes to every method of the service. */
const bytesDef = Object.fromEntries(
  LogService.methods.map((m) => [
    m.localName,
    {
      path: `/${LogService.typeName}/${m.name}`,
      requestStream: m.methodKind === 'bidi_streaming',
      responseStream: m.methodKind !== 'unary',
      requestSerialize: (b: Buffer) => b,
      requestDeserialize: (b: Buffer) => b,
      responseSerialize: (b: Buffer) => b,
      responseDeserialize: (b: Buffer) => b,
    },
  ]),
);
const BytesClient = makeGenericClientConstructor(bytesDef, 'Bytes');

function callWithBytes(
  client: Client,
  method: (typeof LogService.methods)[number],
  bytes: Buffer,
): Promise<number> {
  const c = client as unknown as Record<
    string,
    (...a: unknown[]) => EventEmitter & { cancel(): void; end(): void; write(b: Buffer): void }
  >;
  const deadline = { deadline: Date.now() + 5000 };
  return new Promise((resolve) => {
    if (method.methodKind === 'unary') {
      c[method.localName]!(bytes, deadline, (e: { code: number } | null) => resolve(e ? e.code : status.OK));
      return;
    }
    const call =
      method.methodKind === 'bidi_streaming'
        ? c[method.localName]!(deadline)
        : c[method.localName]!(bytes, deadline);
    call.on('data', () => {
      if (method.name === 'WatchCheckpoints') call.cancel(); // endless by design
    });
    call.on('error', (e: { code: number }) => resolve(e.code === status.CANCELLED ? status.OK : e.code));
    call.on('end', () => resolve(status.OK));
    if (method.methodKind === 'bidi_streaming') {
      call.write(bytes);
      call.end();
    }
  });
}

describe('hostile input', () => {
  it('random bytes to every RPC: only the expected statuses, never a hang', async () => {
    const client = new BytesClient(address, credentials.createInsecure());
    const seen = new Map<string, Set<number>>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...LogService.methods),
        fc.uint8Array({ maxLength: 300 }),
        async (method, bytes) => {
          const code = await callWithBytes(client, method, Buffer.from(bytes));
          seen.set(method.name, (seen.get(method.name) ?? new Set()).add(code));
          expect(ALLOWED.has(code), `${method.name} answered status ${code}`).toBe(true);
        },
      ),
      { numRuns: 400 },
    );
    client.close();
    // Malformed bytes were actually seen as such somewhere.
    expect([...seen.values()].some((s) => s.has(status.INVALID_ARGUMENT))).toBe(true);
  });

  it('extreme field values: the right status for each', async () => {
    const u64 = fc.oneof(fc.bigInt({ min: 0n, max: 400n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }));
    await fc.assert(
      fc.asyncProperty(u64, u64, async (a, b) => {
        const size = log.size;
        const code = (p: Promise<unknown>) =>
          p.then(
            () => status.OK,
            (e: { evidence?: { status?: number } }) => e.evidence?.status,
          );
        const incl = await code(
          raw.unary('getInclusionProof', { leaf: { case: 'index', value: a }, size: b }),
        );
        expect(incl).toBe(a < b && b <= size ? status.OK : status.OUT_OF_RANGE);
        const cons = await code(raw.unary('getConsistencyProof', { size1: a, size2: b }));
        expect(cons).toBe(a <= b && b <= size ? status.OK : status.OUT_OF_RANGE);
        const entry = await code(raw.unary('getEntry', { index: a }));
        expect(entry).toBe(a < size ? status.OK : status.OUT_OF_RANGE);
      }),
      { numRuns: 150 },
    );
  });

  it('the server still serves after all that', async () => {
    const res = await raw.unary<{ size: bigint }>('getCheckpoint', {});
    expect(res.size).toBe(log.size);
    expect(
      (await raw.unary<{ index: bigint }>('append', { entry: utf8('still here') })).index,
    ).toBeGreaterThan(0n);
  });

  it('an AppendStream client that floods and never reads does not stop the server serving others', async () => {
    const call = raw.duplex<unknown, unknown>('appendStream');
    call.on('error', () => {});
    // Hostile: ignores write()'s backpressure and never reads a response.
    for (let i = 0; i < 2000; i++) {
      call.write(
        create(AppendStreamRequestSchema, {
          entries: Array.from({ length: 50 }, (_, j) => utf8(`flood ${i}-${j}`)),
        }),
      );
    }
    const other = createRawClient(address);
    const answer = await other.unary<{ index: bigint }>('append', { entry: utf8('while flooded') });
    expect(answer.index).toBeGreaterThanOrEqual(300n);
    call.cancel();
    expect(
      (await other.unary<{ index: bigint }>('append', { entry: utf8('after the flood') })).index,
    ).toBeGreaterThan(answer.index);
    other.grpc.close();
  });

  it('an AppendStream whose reader stalls is paused: at most maxMessagesInFlight + 1 requests taken', async () => {
    const memLog = await openLog(new MemoryStore(), { maxDelayMs: 0 });
    const handlers = new LogServiceHandlers(memLog, RPC_DEFAULTS).implementation();
    let paused = false;
    const writes: unknown[] = [];
    const call = Object.assign(new EventEmitter(), {
      request: undefined,
      cancelled: false,
      write: (m: unknown) => {
        writes.push(m);
        return false; // the reader never reads: the transport's buffer stays full
      },
      pause: () => {
        paused = true;
      },
      resume: () => {
        paused = false;
      },
      end() {},
    });
    (handlers.appendStream as (c: unknown) => void)(call);
    // The transport delivers a writer's requests only while the stream is not paused. Each
    // phase floods until the handler has written `answers` answers and paused again: that end
    // state does not depend on how fast the appends run (a handler that never pauses takes
    // all 1,000 requests).
    let sent = 0;
    const flood = async (answers: number) => {
      for (let ticks = 0; sent < 1000 && ticks < 2500 && !(paused && writes.length >= answers); ticks++) {
        if (!paused) {
          const entries = [utf8(`stall ${sent} a`), utf8(`stall ${sent} b`)];
          call.emit('data', create(AppendStreamRequestSchema, { entries }));
          sent++;
        }
        await new Promise((r) => setTimeout(r, 2));
      }
    };
    const limit = RPC_DEFAULTS.maxMessagesInFlight;
    await flood(1);
    // One answer was written and waits for 'drain'; the next `limit` requests wait behind it.
    expect(paused).toBe(true);
    expect(sent).toBe(limit + 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(writes).toHaveLength(1);
    expect(paused).toBe(true);
    expect(memLog.size).toBe(BigInt(2 * sent));
    // Each drain lets exactly one more answer out and one more request in.
    call.emit('drain');
    await flood(2);
    expect(writes).toHaveLength(2);
    expect(sent).toBe(limit + 2);
    call.emit('cancelled');
    await memLog.close();
  });

  it('a WatchCheckpoints reader that stalls holds at most one unsent checkpoint', async () => {
    const memLog = await openLog(new MemoryStore(), { maxDelayMs: 0 });
    const handlers = new LogServiceHandlers(memLog, RPC_DEFAULTS).implementation();
    const writes: unknown[] = [];
    const call = Object.assign(new EventEmitter(), {
      request: {},
      cancelled: false,
      write: (m: unknown) => {
        writes.push(m);
        return false; // the reader is stalled
      },
      end() {},
    });
    (handlers.watchCheckpoints as (c: unknown) => void)(call);
    for (let i = 0; i < 50; i++) await memLog.append(utf8(`w${i}`));
    expect(writes).toHaveLength(1);
    call.emit('drain');
    expect(writes).toHaveLength(2);
    const last = writes[1] as { checkpoint: { size: bigint } };
    expect(last.checkpoint.size).toBe(50n);
    call.emit('cancelled');
    await memLog.close();
  });

  it('overload: appends beyond the pool are refused at once, the accepted ones answered', async () => {
    const small = await openLog(new MemoryStore(), { maxPending: 64, maxBatch: 16, maxDelayMs: 20 });
    const s = await startRpcServer({
      log: small,
      listen: '127.0.0.1:0',
      credentials: ServerCredentials.createInsecure(),
    });
    const c = createRawClient(`127.0.0.1:${s.port}`);
    const codes = await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        c.unary('append', { entry: utf8(`o${i}`) }).then(
          () => status.OK,
          (e: { evidence?: { status?: number } }) => e.evidence?.status,
        ),
      ),
    );
    const ok = codes.filter((x) => x === status.OK).length;
    expect(codes.filter((x) => x === status.RESOURCE_EXHAUSTED).length).toBeGreaterThan(0);
    expect(ok + codes.filter((x) => x === status.RESOURCE_EXHAUSTED).length).toBe(1000);
    expect(small.size).toBe(BigInt(ok));
    c.grpc.close();
    await s.shutdown(1000);
  });

  it('a storage that fails like a full disk: appends fail UNAVAILABLE, nothing is signed, service resumes when it clears', async () => {
    class FullDisk extends FaultyStore {
      full = false;
      override async commit(batch: Parameters<FaultyStore['commit']>[0]) {
        if (this.full)
          throw Object.assign(new Error('IO error: No space left on device'), { code: 'ENOSPC' });
        return super.commit(batch);
      }
    }
    const store = new FullDisk(new MemoryStore());
    const full = await openLog(store, { maxDelayMs: 0 });
    const s = await startRpcServer({
      log: full,
      listen: '127.0.0.1:0',
      credentials: ServerCredentials.createInsecure(),
    });
    const c = createRawClient(`127.0.0.1:${s.port}`);
    await c.unary('append', { entry: utf8('before') });
    const before = await c.unary<{ checkpoint: string }>('getCheckpoint', {});
    store.full = true;
    const err = (await c.unary('append', { entry: utf8('during') }).catch((e: unknown) => e)) as VellumError;
    expect(err.evidence?.status).toBe(status.UNAVAILABLE);
    expect(err.message).toContain('No space left on device');
    expect((await c.unary<{ checkpoint: string }>('getCheckpoint', {})).checkpoint).toBe(before.checkpoint);
    expect(new TextDecoder().decode(await store.latestCheckpoint())).toBe(before.checkpoint);
    store.full = false;
    const after = await c.unary<{ index: bigint }>('append', { entry: utf8('after') });
    expect(after.index).toBe(1n);
    await checkFullLog(store, verifier, [{ index: 1n, leafHash: full.hasher.leafHash(utf8('after')) }]);
    c.grpc.close();
    await s.shutdown(1000);
  });
});

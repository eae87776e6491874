// Integration over real gRPC on 127.0.0.1:0 with a real LevelDB in a temp dir.
import { create, toBinary } from '@bufbuild/protobuf';
import { credentials, loadPackageDefinition, makeGenericClientConstructor, status } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRawClient, type RawClient } from '../../client/grpc.js';
import type { TrustedCheckpoint } from '../../client/verify.js';
import {
  type AppendResponse,
  AppendStreamRequestSchema,
  type AppendStreamResponse,
} from '../../src/gen/vellum/v1/log_pb.js';
import { defaultHasher as H, verifyInclusion } from '../../src/merkle/index.js';
import { formatReceipt, verifyReceipt } from '../../src/note/index.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { utf8 } from '../helpers/vectors.js';

let server: TestServer;
let raw: RawClient;
beforeAll(async () => {
  server = await startServer({ maxEntryBytes: 1024 });
  raw = createRawClient(server.address);
});
afterAll(async () => {
  raw.grpc.close();
  await server.stop();
});

const statusOf = (p: Promise<unknown>) =>
  p.then(
    () => 'OK',
    (e: { evidence?: { status?: number } }) => e.evidence?.status,
  );

describe('gRPC service', () => {
  it('appends, streams, proves, and serves entries; the client verifies everything', async () => {
    const client = server.client();
    const one = await client.append(utf8('first'));
    expect(one.index).toBe(0n);
    const many = await client.appendMany(
      Array.from({ length: 3000 }, (_, i) => utf8(`bulk ${i}`)),
      { chunkSize: 250, inFlight: 3 },
    );
    expect(many.map((r) => r.index)).toEqual(Array.from({ length: 3000 }, (_, i) => BigInt(i + 1)));
    const cp = await client.checkpoint();
    expect(cp.checkpoint.size).toBe(3001n);
    const byIndex = await client.inclusionProof(1234n);
    expect(byIndex.leafHash).toEqual(H.leafHash(utf8('bulk 1233')));
    const byHash = await client.inclusionProof(H.leafHash(utf8('bulk 7')), 100n);
    expect(byHash).toMatchObject({ index: 8n, size: 100n });
    const c = await client.consistencyProof(10n, 2000n);
    expect(c.size2).toBe(2000n);
    expect((await client.getEntry(5n)).entry).toEqual(utf8('bulk 4'));
    const audit = await client.audit();
    expect(audit).toMatchObject({ ok: true, size: 3001n });
    client.close();
  });

  it('serves with no tile cache and LevelDB at its fewest open tables, across a restart', async () => {
    const lean = await startServer({ tileCacheSize: 0, leveldbMaxOpenFiles: 74 });
    try {
      const client = lean.client();
      const appended = await client.appendMany(
        Array.from({ length: 1500 }, (_, i) => utf8(`lean ${i}`)),
        { chunkSize: 500 },
      );
      expect(appended.at(-1)!.index).toBe(1499n);
      const proofs = await client.inclusionProofs([0n, 255n, 256n, 1023n, 1499n], 1500n);
      expect(proofs.map((p) => p.leafHash)).toEqual(
        [0, 255, 256, 1023, 1499].map((i) => H.leafHash(utf8(`lean ${i}`))),
      );
      client.close();
      await lean.restart();
      const after = lean.client();
      expect(await after.audit()).toMatchObject({ ok: true, size: 1500n });
      after.close();
    } finally {
      await lean.stop();
    }
  });

  it('serves Prometheus metrics, the dedup filter among them; without the filter, dedup holds', async () => {
    const watched = await startServer({ metricsListen: '127.0.0.1:0' });
    const plain = await startServer({ dedupFilterBits: 0 });
    try {
      for (const t of [watched, plain]) {
        const client = t.client();
        const first = await client.appendMany(Array.from({ length: 300 }, (_, i) => utf8(`m ${i}`)));
        const again = await client.appendMany(Array.from({ length: 300 }, (_, i) => utf8(`m ${i}`)));
        expect(again.map((r) => [r.index, r.duplicate])).toEqual(first.map((r) => [r.index, true]));
        client.close();
      }
      const text = await (await fetch(`http://127.0.0.1:${watched.serving.metricsPort}/metrics`)).text();
      expect(text).toMatch(/^vellum_tree_size 300$/m);
      expect(text).toMatch(/^vellum_dedup_filter_ready 1$/m);
      expect(text).toMatch(/^vellum_dedup_filter_bytes 1310720$/m); // 2^20 entries at 10 bits
      expect(text).toMatch(/^vellum_appends_total\{result="duplicate"\} 300$/m);
    } finally {
      await watched.stop();
      await plain.stop();
    }
  });

  it('Append: index, checkpoint and packed proof make a receipt that verifies offline, duplicates too', async () => {
    const client = server.client();
    const verifier = client.verifier;
    client.close();
    const answers: AppendResponse[] = [];
    for (const e of ['unary a', 'unary b', 'unary a'])
      answers.push(await raw.unary('append', { entry: utf8(e) }));
    const [a, , again] = answers;
    expect(again!.duplicate).toBe(true);
    expect(again!.index).toBe(a!.index);
    for (const [r, e] of [
      [a!, 'unary a'],
      [answers[1]!, 'unary b'],
    ] as const) {
      expect(r.leafHash).toEqual(H.leafHash(utf8(e)));
      expect(r.proof.length % 32).toBe(0);
      const proof = Array.from({ length: r.proof.length / 32 }, (_, i) =>
        r.proof.subarray(i * 32, i * 32 + 32),
      );
      const receipt = formatReceipt({ index: r.index, proof, checkpoint: r.checkpoint });
      expect(verifyReceipt(receipt, r.leafHash, [verifier], { hasher: H }).receipt.index).toBe(r.index);
    }
  });

  it('AppendStream: every receipt rebuilt from a run verifies offline, duplicates keep their original', async () => {
    const client = server.client();
    const fresh = Array.from({ length: 700 }, (_, i) => utf8(`run ${i}`));
    const first = await client.appendMany(fresh, { chunkSize: 300, inFlight: 2 });
    // Duplicates inside a chunk split it into runs: new entries, then an old one, then new.
    const mixed = [utf8('run new 0'), fresh[5]!, utf8('run new 1'), utf8('run new 2'), fresh[699]!];
    const second = await client.appendMany(mixed, { chunkSize: 5 });
    expect(second.map((r) => r.duplicate)).toEqual([false, true, false, false, true]);
    expect(second[1]!.index).toBe(first[5]!.index);
    expect(second[4]!.index).toBe(first[699]!.index);
    expect(second[3]!.index).toBe(second[2]!.index + 1n);
    const verifier = client.verifier;
    for (const r of [...first, ...second]) {
      const v = verifyReceipt(r.receipt, r.leafHash, [verifier], { hasher: H });
      expect(v.receipt.index).toBe(r.index);
      expect(v.checkpoint.size).toBe(r.checkpoint.size);
    }
    expect(second[1]!.receipt).toBe(first[5]!.receipt);
    client.close();
  });

  it('batched inclusion proofs verify against the checkpoint they come with', async () => {
    const res = await raw.unary<{
      proofs: { index: bigint; size: bigint; leafHash: Uint8Array; proof: Uint8Array[] }[];
      checkpoint: string;
    }>('getInclusionProofs', { indexes: [0n, 1n, 2n, 500n] });
    const client = server.client();
    const cp = await client.checkpoint();
    expect(res.checkpoint).toBe(cp.note);
    for (const p of res.proofs) verifyInclusion({ ...p, rootHash: cp.checkpoint.rootHash }, H);
    client.close();
  });

  it('many concurrent clients', async () => {
    const clients = Array.from({ length: 8 }, () => server.client());
    const results = await Promise.all(
      clients.map((c, k) =>
        Promise.all(Array.from({ length: 50 }, (_, i) => c.append(utf8(`client ${k} event ${i}`)))),
      ),
    );
    const indexes = new Set(results.flat().map((r) => r.index));
    expect(indexes.size).toBe(400);
    for (const c of clients) c.close();
  });

  it('WatchCheckpoints streams each new checkpoint, each verified consistent', async () => {
    const client = server.client();
    const seen: TrustedCheckpoint[] = [];
    const errors: unknown[] = [];
    const stop = client.watch(
      (c) => seen.push(c),
      (e) => errors.push(e),
    );
    await new Promise((r) => setTimeout(r, 100));
    const writer = server.client();
    await writer.append(utf8('watched 1'));
    await writer.append(utf8('watched 2'));
    await new Promise((r) => setTimeout(r, 200));
    stop();
    expect(errors).toEqual([]);
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen.at(-1)!.checkpoint.size).toBe((await writer.checkpoint()).checkpoint.size);
    writer.close();
    client.close();
  });

  it('answers bad input with the right status and keeps serving', async () => {
    const cases: [() => Promise<unknown>, number][] = [
      [
        () => raw.unary('getInclusionProof', { leaf: { case: 'leafHash', value: new Uint8Array(31) } }),
        status.INVALID_ARGUMENT,
      ],
      [() => raw.unary('getInclusionProof', {}), status.INVALID_ARGUMENT],
      [
        () => raw.unary('getInclusionProof', { leaf: { case: 'index', value: 1n << 60n } }),
        status.OUT_OF_RANGE,
      ],
      [
        () => raw.unary('getInclusionProof', { leaf: { case: 'index', value: 0n }, size: 1n << 62n }),
        status.OUT_OF_RANGE,
      ],
      [
        () => raw.unary('getInclusionProof', { leaf: { case: 'leafHash', value: new Uint8Array(32) } }),
        status.NOT_FOUND,
      ],
      [() => raw.unary('getConsistencyProof', { size1: 5n, size2: 4n }), status.OUT_OF_RANGE],
      [() => raw.unary('getConsistencyProof', { size1: 1n << 63n }), status.OUT_OF_RANGE],
      [() => raw.unary('getEntry', { index: 1n << 40n }), status.OUT_OF_RANGE],
      [() => raw.unary('append', { entry: new Uint8Array(1025) }), status.RESOURCE_EXHAUSTED],
      [
        () => raw.unary('getInclusionProofs', { indexes: Array.from({ length: 10_001 }, () => 0n) }),
        status.RESOURCE_EXHAUSTED,
      ],
    ];
    for (const [call, code] of cases) expect(await statusOf(call())).toBe(code);
    // Streams: entries past the size, an empty range, too many entries in one message.
    const entriesStatus = (start: bigint, end: bigint) =>
      new Promise((resolve) => {
        const s = raw.serverStream('getEntries', { start, end });
        s.on('data', () => {});
        s.on('error', (e: { code: number }) => resolve(e.code));
        s.on('end', () => resolve('OK'));
      });
    expect(await entriesStatus(1n << 50n, (1n << 50n) + 1n)).toBe(status.OUT_OF_RANGE);
    expect(await entriesStatus(3n, 3n)).toBe(status.OUT_OF_RANGE);
    expect(await entriesStatus(0n, 3n)).toBe('OK');
    const stream = raw.duplex<unknown, AppendStreamResponse>('appendStream');
    const streamStatus = new Promise((resolve) => {
      stream.on('data', () => {});
      stream.on('error', (e: { code: number }) => resolve(e.code));
    });
    stream.write(
      create(AppendStreamRequestSchema, { entries: Array.from({ length: 10_001 }, (_, i) => utf8(`${i}`)) }),
    );
    expect(await streamStatus).toBe(status.RESOURCE_EXHAUSTED);
    // Bytes that are not a protobuf message at all.
    const garbage = makeGenericClientConstructor(
      {
        append: {
          path: '/vellum.v1.LogService/Append',
          requestStream: false,
          responseStream: false,
          requestSerialize: (b: Buffer) => b,
          requestDeserialize: (b: Buffer) => b,
          responseSerialize: (b: Buffer) => b,
          responseDeserialize: (b: Buffer) => b,
        },
      },
      'Garbage',
    );
    const g = new garbage(server.address, credentials.createInsecure()) as unknown as {
      append(b: Buffer, cb: (e: { code: number } | null) => void): void;
      close(): void;
    };
    const code = await new Promise((r) =>
      g.append(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), (e) => r(e?.code)),
    );
    expect(code).toBe(status.INVALID_ARGUMENT);
    g.close();
    // Still serving.
    const client = server.client();
    expect((await client.append(utf8('after bad input'))).index).toBeGreaterThan(0n);
    client.close();
  });

  it('a message over the size limit is refused', async () => {
    const big = toBinary(
      AppendStreamRequestSchema,
      create(AppendStreamRequestSchema, { entries: [new Uint8Array(33 << 20)] }),
    );
    expect(big.length).toBeGreaterThan(32 << 20);
    expect(await statusOf(raw.unary('append', { entry: new Uint8Array(33 << 20) }))).toBe(
      status.RESOURCE_EXHAUSTED,
    );
  });

  it('serves the standard health service', async () => {
    const pkg = loadPackageDefinition(loadSync(healthProtoPath, { enums: String })) as unknown as {
      grpc: {
        health: {
          v1: {
            Health: new (
              a: string,
              c: unknown,
            ) => { check(r: object, cb: (e: unknown, r: { status: string }) => void): void; close(): void };
          };
        };
      };
    };
    const health = new pkg.grpc.health.v1.Health(server.address, credentials.createInsecure());
    const res = await new Promise<{ status: string }>((resolve, reject) =>
      health.check({ service: 'vellum.v1.LogService' }, (e, r) => (e ? reject(e) : resolve(r))),
    );
    expect(res.status).toBe('SERVING');
    health.close();
  });

  it('serves reflection, so grpcurl can list and describe the services', async () => {
    const protoFile = new URL(
      '../../node_modules/@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto',
      import.meta.url,
    ).pathname;
    const pkg = loadPackageDefinition(loadSync(protoFile, { keepCase: true })) as unknown as {
      grpc: {
        reflection: {
          v1: {
            ServerReflection: new (
              a: string,
              c: unknown,
            ) => { ServerReflectionInfo(): ClientDuplex; close(): void };
          };
        };
      };
    };
    type ClientDuplex = {
      write(m: object): void;
      end(): void;
      on(e: string, f: (m: Record<string, unknown>) => void): void;
    };
    const reflection = new pkg.grpc.reflection.v1.ServerReflection(
      server.address,
      credentials.createInsecure(),
    );
    const ask = (request: object) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const call = reflection.ServerReflectionInfo();
        call.on('data', resolve);
        call.on('error', reject);
        call.write(request);
        call.end();
      });
    const list = (await ask({ list_services: '' })) as {
      list_services_response: { service: { name: string }[] };
    };
    const names = list.list_services_response.service.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['vellum.v1.LogService', 'grpc.health.v1.Health']));
    const file = (await ask({ file_containing_symbol: 'vellum.v1.LogService' })) as {
      file_descriptor_response: { file_descriptor_proto: Buffer[] };
    };
    expect(file.file_descriptor_response.file_descriptor_proto.length).toBeGreaterThan(0);
    reflection.close();
  });

  it('restarts on the same data with the same checkpoint; old proofs still verify', async () => {
    const client = server.client();
    const before = await client.checkpoint();
    const proof = await client.inclusionProof(42n);
    client.close();
    await server.restart();
    raw.grpc.close();
    raw = createRawClient(server.address);
    const again = server.client();
    expect((await again.checkpoint()).note).toBe(before.note);
    const after = await again.inclusionProof(42n, before.checkpoint.size);
    expect(after.proof).toEqual(proof.proof);
    expect((await again.append(utf8('after restart'))).index).toBe(before.checkpoint.size);
    again.close();
  });
});

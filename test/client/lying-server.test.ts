// The client against a server that lies. The lying server runs two real logs with the same key
// and origin (two histories) and switches between them or tampers with answers; the client
// must catch every lie, and a fork or rollback must come with the evidence.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { Server, ServerCredentials, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogClient } from '../../client/log-client.js';
import {
  type AppendStreamResponse,
  AppendStreamResponseSchema,
  LogService,
} from '../../src/gen/vellum/v1/log_pb.js';
import { TransparencyLog } from '../../src/log/log.js';
import { defaultHasher as H } from '../../src/merkle/index.js';
import {
  formatVerifierKey,
  generateKey,
  openCheckpoint,
  parseSignerKey,
  verifierOf,
} from '../../src/note/index.js';
import { grpcDefinition } from '../../src/rpc/grpc-definition.js';
import { RPC_DEFAULTS } from '../../src/rpc/limits.js';
import { LogServiceHandlers } from '../../src/rpc/log-service.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { utf8 } from '../helpers/vectors.js';

const origin = 'liar.vellum.example/log';
const signer = parseSignerKey(generateKey(origin).signerKey);
const vkey = formatVerifierKey(verifierOf(signer));

type Tamper = (method: string, response: Record<string, unknown>) => Record<string, unknown>;
let server: Server;
let address: string;
let honest: TransparencyLog;
let other: TransparencyLog;
type StreamTamper = (response: AppendStreamResponse) => AppendStreamResponse;
const mode: { log: 'honest' | 'other'; tamper?: Tamper; tamperStream?: StreamTamper } = { log: 'honest' };
const dir = mkdtempSync(join(tmpdir(), 'vellum-liar-'));

beforeAll(async () => {
  honest = await TransparencyLog.open(new MemoryStore(), { origin, signer, maxDelayMs: 0 });
  other = await TransparencyLog.open(new MemoryStore(), { origin, signer, maxDelayMs: 0 });
  for (let i = 0; i < 5; i++) await honest.append(utf8(`honest ${i}`));
  for (let i = 0; i < 8; i++) await other.append(utf8(`other ${i}`));
  const impls = {
    honest: new LogServiceHandlers(honest, RPC_DEFAULTS).implementation(),
    other: new LogServiceHandlers(other, RPC_DEFAULTS).implementation(),
  };
  const proxy: UntypedServiceImplementation = {};
  for (const name of Object.keys(impls.honest)) {
    proxy[name] = ((call: unknown, callback?: (e: unknown, r?: Record<string, unknown>) => void) => {
      const impl = impls[mode.log][name] as (c: unknown, cb?: unknown) => void;
      if (!callback) {
        const t = mode.tamperStream;
        const c = call as { write(r: AppendStreamResponse): boolean };
        if (t && name === 'appendStream') {
          const write = c.write.bind(c);
          c.write = (r) => write(t(r));
        }
        return impl(call);
      }
      impl(call, (e: unknown, r?: Record<string, unknown>) =>
        callback(e, r && mode.tamper ? mode.tamper(name, r) : r),
      );
    }) as never;
  }
  server = new Server();
  server.addService(grpcDefinition(LogService), proxy);
  const port = await new Promise<number>((res, rej) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))),
  );
  address = `127.0.0.1:${port}`;
});
afterAll(() => {
  server.forceShutdown();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => {
  mode.log = 'honest';
  mode.tamper = undefined;
  mode.tamperStream = undefined;
});

const flip = (b: Uint8Array) => {
  const c = b.slice();
  c[0]! ^= 1;
  return c;
};

describe('client against a lying server', () => {
  it('fork: a larger checkpoint of another history is refused, with both notes and the proof', async () => {
    const client = createLogClient({ address, verifierKey: vkey });
    const trusted = await client.checkpoint();
    mode.log = 'other';
    const err = await client.checkpoint().catch((e) => e);
    expect(err).toMatchObject({ code: 'INCONSISTENT', message: expect.stringMatching(/fork/) });
    expect(err.evidence.trusted).toBe(trusted.note);
    expect(openCheckpoint(err.evidence.received, [verifierOf(signer)]).checkpoint.size).toBe(8n);
    expect(Array.isArray(err.evidence.proof)).toBe(true);
    // Trust did not move.
    expect(client.trusted!.note).toBe(trusted.note);
    client.close();
  });

  it('rollback: an older checkpoint after a newer one is refused', async () => {
    const client = createLogClient({ address, verifierKey: vkey });
    mode.log = 'other';
    await client.checkpoint(); // trusts size 8
    mode.log = 'honest';
    await expect(client.checkpoint()).rejects.toMatchObject({
      code: 'INCONSISTENT',
      message: expect.stringMatching(/rollback/),
    });
    client.close();
  });

  it('split view: two roots for one size, caught through the persisted trusted state', async () => {
    const statePath = join(dir, 'trusted.json');
    const first = createLogClient({ address, verifierKey: vkey, trustedStatePath: statePath });
    await first.checkpoint(); // honest, size 5
    first.close();
    const fake = await TransparencyLog.open(new MemoryStore(), { origin, signer, maxDelayMs: 0 });
    for (let i = 0; i < 5; i++) await fake.append(utf8(`fake ${i}`));
    const fakeNote = fake.latestCheckpoint().note;
    mode.tamper = (method, r) => (method === 'getCheckpoint' ? { ...r, checkpoint: fakeNote } : r);
    const second = createLogClient({ address, verifierKey: vkey, trustedStatePath: statePath });
    await expect(second.checkpoint()).rejects.toMatchObject({
      code: 'INCONSISTENT',
      message: expect.stringMatching(/split view/),
    });
    second.close();
  });

  it('a tampered inclusion proof, consistency proof or leaf hash is refused', async () => {
    const client = createLogClient({ address, verifierKey: vkey });
    mode.tamper = (method, r) =>
      method === 'getInclusionProof'
        ? { ...r, proof: (r.proof as Uint8Array[]).map((p, i) => (i === 0 ? flip(p) : p)) }
        : r;
    await expect(client.inclusionProof(1n)).rejects.toMatchObject({ code: 'VERIFICATION_FAILED' });
    mode.tamper = (method, r) =>
      method === 'getConsistencyProof' ? { ...r, root1: flip(r.root1 as Uint8Array) } : r;
    await expect(client.consistencyProof(3n)).rejects.toMatchObject({ code: 'VERIFICATION_FAILED' });
    mode.tamper = (method, r) => (method === 'getEntry' ? { ...r, entry: utf8('rewritten history') } : r);
    await expect(client.getEntry(2n)).rejects.toMatchObject({ code: 'VERIFICATION_FAILED' });
    client.close();
  });

  it('a page of inclusion proofs verifies, and any tampered proof in it is refused', async () => {
    const client = createLogClient({ address, verifierKey: vkey });
    const indexes = [0n, 1n, 2n, 3n, 4n, 2n];
    const ok = await client.inclusionProofs(indexes);
    expect(ok.map((p) => p.index)).toEqual(indexes);
    expect(ok[0]!.leafHash).toEqual(H.leafHash(utf8('honest 0')));
    const size = client.trusted!.checkpoint.size;
    for (const at of [0, 3, 5]) {
      mode.tamper = (method, r) =>
        method === 'getInclusionProofs'
          ? {
              ...r,
              proofs: (r.proofs as { proof: Uint8Array[] }[]).map((p, i) =>
                i === at
                  ? { ...p, proof: p.proof.map((h, j) => (j === p.proof.length - 1 ? flip(h) : h)) }
                  : p,
              ),
            }
          : r;
      await expect(client.inclusionProofs(indexes, size)).rejects.toMatchObject({
        code: 'VERIFICATION_FAILED',
      });
    }
    mode.tamper = (method, r) =>
      method === 'getInclusionProofs' ? { ...r, proofs: (r.proofs as unknown[]).slice(1) } : r;
    await expect(client.inclusionProofs(indexes, size)).rejects.toMatchObject({
      code: 'VERIFICATION_FAILED',
    });
    client.close();
  });

  it('a tampered Append answer or a checkpoint signed by another key is refused', async () => {
    const client = createLogClient({ address, verifierKey: vkey });
    const flip = (p: Uint8Array, at: number) => {
      const c = p.slice();
      c[at]! ^= 1;
      return c;
    };
    const stranger = parseSignerKey(generateKey(origin).signerKey);
    const forged = await TransparencyLog.open(new MemoryStore(), { origin, signer: stranger, maxDelayMs: 0 });
    await forged.append(utf8('forged'));
    const appendLies: [string, Tamper][] = [
      ['index', (_, r) => ({ ...r, index: 0n })],
      ['proof bit', (_, r) => ({ ...r, proof: flip(r.proof as Uint8Array, 33) })],
      ['proof cut', (_, r) => ({ ...r, proof: (r.proof as Uint8Array).subarray(32) })],
      ['proof ragged', (_, r) => ({ ...r, proof: (r.proof as Uint8Array).subarray(1) })],
      ['leaf hash', (_, r) => ({ ...r, leafHash: flip(r.leafHash as Uint8Array, 0) })],
      ['other note', (_, r) => ({ ...r, checkpoint: other.latestCheckpoint().note })],
      ['another key', (_, r) => ({ ...r, checkpoint: forged.latestCheckpoint().note })],
    ];
    for (const [name, lie] of appendLies) {
      mode.tamper = (method, r) => (method === 'append' ? lie(method, r) : r);
      const err = await client.append(utf8(`new event ${name}`)).catch((e) => e);
      expect(err, name).toMatchObject({ code: 'VERIFICATION_FAILED' });
    }
    mode.tamper = (method, r) =>
      method === 'getCheckpoint' ? { ...r, checkpoint: forged.latestCheckpoint().note } : r;
    await expect(createLogClient({ address, verifierKey: vkey }).checkpoint()).rejects.toMatchObject({
      code: 'VERIFICATION_FAILED',
    });
    client.close();
  });

  it('AppendStream: a run whose proof, index, count or checkpoint was altered is refused', async () => {
    const entries = (tag: string) => Array.from({ length: 6 }, (_, i) => utf8(`stream ${tag} ${i}`));
    const client = createLogClient({ address, verifierKey: vkey });
    expect(await client.appendMany(entries('ok'), { chunkSize: 6 })).toHaveLength(6);
    const runs =
      (f: (r: AppendStreamResponse) => Partial<AppendStreamResponse>): StreamTamper =>
      (r) =>
        create(AppendStreamResponseSchema, { ...r, ...f(r) });
    const first = (r: AppendStreamResponse) => r.runs[0]!;
    const bit = (p: Uint8Array, at: number) => {
      const c = p.slice();
      c[at]! ^= 0x80;
      return c;
    };
    const lies: [string, StreamTamper][] = [
      ['proof bit', runs((r) => ({ runs: [{ ...first(r), proof: bit(first(r).proof, 40) }] }))],
      ['proof cut', runs((r) => ({ runs: [{ ...first(r), proof: first(r).proof.subarray(1) }] }))],
      ['index', runs((r) => ({ runs: [{ ...first(r), index: first(r).index + 1n }] }))],
      ['count', runs((r) => ({ runs: [{ ...first(r), count: 5 }] }))],
      [
        'split',
        runs((r) => ({
          runs: [
            { ...first(r), count: 3 },
            { ...first(r), index: first(r).index + 3n, count: 3 },
          ],
        })),
      ],
      ['no run', runs(() => ({ runs: [] }))],
      ['checkpoint', runs((r) => ({ runs: [{ ...first(r), checkpoint: 1 }] }))],
      ['duplicate', runs((r) => ({ runs: [{ ...first(r), duplicate: true }] }))],
      ['other note', runs(() => ({ checkpoints: [other.latestCheckpoint().note] }))],
    ];
    for (const [name, lie] of lies) {
      mode.tamperStream = lie;
      const err = await client.appendMany(entries(name), { chunkSize: 6 }).catch((e) => e);
      expect(err, name).toMatchObject({ code: 'VERIFICATION_FAILED' });
    }
    client.close();
  });

  it('an audit names the first entry that does not match the signed tree', async () => {
    const client = createLogClient({ address, verifierKey: vkey });
    expect((await client.audit()).ok).toBe(true);
    // A store whose entry 3 was rewritten at rest, while the tree hashes stay as signed.
    const store = new MemoryStore();
    const log = await TransparencyLog.open(store, { origin, signer, maxDelayMs: 0 });
    for (let i = 0; i < 6; i++) await log.append(utf8(`audited ${i}`));
    store.entries.set(3n, utf8('tampered at rest'));
    const handlers = new LogServiceHandlers(log, RPC_DEFAULTS).implementation();
    const s = new Server();
    s.addService(grpcDefinition(LogService), handlers);
    const port = await new Promise<number>((r, j) =>
      s.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? j(e) : r(p))),
    );
    const auditor = createLogClient({ address: `127.0.0.1:${port}`, verifierKey: vkey });
    expect(await auditor.audit()).toMatchObject({ ok: false, firstBadIndex: 3n, size: 6n });
    auditor.close();
    s.forceShutdown();
    expect(H.leafHash(utf8('audited 3'))).not.toEqual(H.leafHash(utf8('tampered at rest')));
    client.close();
  });
});

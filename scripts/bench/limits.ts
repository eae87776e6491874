// What this machine allows, measured in the same run: SHA-256 of 64 bytes, Ed25519 signing,
// LevelDB chained-batch puts with fsync, the least work of a deduplicated append, and a plain
// grpc-js echo over loopback.
import { hash as nodeHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import { credentials, makeGenericClientConstructor } from '@grpc/grpc-js';
import * as ed from '@noble/ed25519';
import { sha256 } from '@noble/hashes/sha2.js';
import { createSHA256 } from 'hash-wasm';
import { Level } from 'level';
import { AppendRequestSchema, AppendResponseSchema } from '../../src/gen/vellum/v1/log_pb.js';
import { nodeEd25519 } from '../../src/node-ed25519.js';
import { nodeHasher } from '../../src/node-hasher.js';
import { signCheckpoint } from '../../src/note/checkpoint.js';
import { generateKey, parseSignerKey } from '../../src/note/keys.js'; // also wires SHA-512 into noble
import { echoDefinition } from './echo-server.js';
import { spawnWithPort, stop } from './process.js';
import { closedLoop, entry, entryRange, syncRate } from './stats.js';

export async function measureLimits(quick: boolean) {
  const block = new Uint8Array(64).fill(7);
  const sha256Node = syncRate(quick ? 300_000 : 1_000_000, () => nodeHash('sha256', block, 'buffer'));
  const sha256Noble = syncRate(quick ? 200_000 : 600_000, () => sha256(block));
  const wasm = await createSHA256();
  const sha256Wasm = syncRate(quick ? 300_000 : 1_000_000, () => wasm.init().update(block).digest('binary'));
  const seed = new Uint8Array(32).fill(1);
  const msg = new Uint8Array(120).fill(2);
  const ed25519Signs = syncRate(quick ? 1_000 : 3_000, () => ed.sign(msg, seed));
  const nodeSign = nodeEd25519.signer(seed);
  const ed25519SignsNode = syncRate(quick ? 5_000 : 20_000, () => nodeSign(msg));

  const dir = mkdtempSync(join(tmpdir(), 'vellum-bench-level-'));
  const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  const total = quick ? 200_000 : 1_000_000;
  const values = Array.from({ length: 1000 }, (_, i) => entry(i));
  const t = performance.now();
  for (let at = 0; at < total; at += 1000) {
    const b = db.batch();
    for (let i = 0; i < 1000; i++) {
      const k = new Uint8Array(9);
      k[0] = 0x65;
      new DataView(k.buffer).setBigUint64(1, BigInt(at + i));
      b.put(k, values[i]!);
    }
    await b.write({ sync: true });
  }
  const levelPuts = total / ((performance.now() - t) / 1000);
  await db.close();
  rmSync(dir, { recursive: true, force: true });
  const dedupAppends = await leastAppendWork(total);

  const echoScript = new URL('./echo-server.ts', import.meta.url).pathname;
  const sizes = appendMessageSizes();
  const { child, port } = await spawnWithPort(['--import', 'tsx', echoScript, String(sizes.response)]);
  const Client = makeGenericClientConstructor(echoDefinition, 'Echo');
  type EchoClient = {
    echo(b: Buffer, cb: (e: unknown, r: Buffer) => void): void;
    echoStream(): NodeJS.ReadWriteStream & { write(b: Buffer): boolean; end(): void };
    close(): void;
  };
  // Four clients; grpc-js shares one connection among clients with the same options, and one
  // client measured the same here.
  const clients = Array.from(
    { length: 4 },
    () => new Client(`127.0.0.1:${port}`, credentials.createInsecure()) as unknown as EchoClient,
  );
  const client = clients[0]!;
  const request = Buffer.alloc(sizes.request, 1);
  let n = 0;
  const echoUnary = await closedLoop(
    64,
    quick ? 3 : 8,
    () => new Promise((r, j) => clients[n++ % 4]!.echo(request, (e, res) => (e ? j(e) : r(res)))),
  );
  const payload = Buffer.from(entry(1));
  // Streaming: 256-byte messages both ways, as fast as flow control allows.
  const streamSeconds = quick ? 2 : 5;
  const echoStream = await new Promise<number>((resolve) => {
    const call = client.echoStream();
    let received = 0;
    const t0 = performance.now();
    const end = t0 + streamSeconds * 1000;
    call.on('data', () => {
      received++;
    });
    call.on('end', () => resolve(received / ((performance.now() - t0) / 1000)));
    const pump = () => {
      while (performance.now() < end) {
        if (!call.write(payload)) {
          call.once('drain', pump);
          return;
        }
      }
      call.end();
    };
    pump();
  });
  for (const c of clients) c.close();
  await stop(child);
  return {
    sha256Node,
    sha256Noble,
    sha256Wasm,
    ed25519Signs,
    ed25519SignsNode,
    levelPuts,
    dedupAppends,
    echoUnary,
    echoStream,
    echoSizes: sizes,
  };
}

/**
 * The least work a durable, strongly deduplicated append needs, and nothing else: the entry's
 * leaf hash, one node hash (a tree of n leaves has n − 1 interior nodes) and its dedup row
 * (leaf hash → index) in a LevelDB chained batch of 1,000 with fsync, the next batch hashed
 * while the previous one is written. No tiles, entry bytes, checkpoint or receipt: a ceiling
 * for in-process appends on this machine.
 */
async function leastAppendWork(total: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'vellum-bench-dedup-'));
  const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  let written: Promise<void> = Promise.resolve();
  let last = nodeHasher.leafHash(new Uint8Array(0));
  const t = performance.now();
  for (let at = 0; at < total; at += 1000) {
    const entries = entryRange(at, 1000, 11);
    const rows = new Uint8Array(1000 * 36);
    const b = db.batch();
    for (let i = 0; i < 1000; i++) {
      const leaf = nodeHasher.leafHash(entries[i]!);
      last = nodeHasher.nodeHash(last, leaf);
      // 'd' ‖ leaf hash → the index in 3 bytes, as LevelStore writes them below 2^24 entries.
      const row = rows.subarray(i * 36, (i + 1) * 36);
      row[0] = 0x64;
      row.set(leaf, 1);
      row[33] = (at + i) >>> 16;
      row[34] = (at + i) >>> 8;
      row[35] = at + i;
      b.put(row.subarray(0, 33), row.subarray(33));
    }
    await written;
    written = b.write({ sync: true });
  }
  await written;
  const rate = total / ((performance.now() - t) / 1000);
  await db.close();
  rmSync(dir, { recursive: true, force: true });
  return rate;
}

/**
 * The encoded sizes of an Append request (a 256-byte entry) and of its answer in a log of about
 * a million entries (its checkpoint and a 20-hash inclusion proof), for the echo to move the
 * same bytes.
 */
function appendMessageSizes(): { request: number; response: number } {
  const signer = parseSignerKey(generateKey('bench.vellum.example/log').signerKey);
  const hash = new Uint8Array(32).fill(9);
  const checkpoint = signCheckpoint(
    { origin: signer.name, size: 1_000_000n, rootHash: hash, extensions: [] },
    [signer],
  );
  return {
    request: toBinary(AppendRequestSchema, create(AppendRequestSchema, { entry: entry(1) })).length,
    response: toBinary(
      AppendResponseSchema,
      create(AppendResponseSchema, {
        index: 999_999n,
        leafHash: hash,
        duplicate: false,
        checkpoint,
        proof: new Uint8Array(20 * 32).fill(9),
      }),
    ).length,
  };
}

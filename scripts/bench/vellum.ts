// vellum measured the way its users run it: in-process (no RPC), and as a separate server
// process over loopback gRPC with a load generator that verifies every receipt and proof.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { createLogClient, type LogClient } from '../../client/log-client.js';
import { loadOrCreateKey } from '../../src/keyfile.js';
import { TransparencyLog } from '../../src/log/log.js';
import { nodeEd25519 } from '../../src/node-ed25519.js';
import { generateKey, parseSignerKey } from '../../src/note/keys.js';
import { LevelStore } from '../../src/storage/level-store.js';
import { cpuSeconds, memoryMb, rssMb, spawnWithPort, stop } from './process.js';
import { closedLoop, entry, entryRange, percentiles } from './stats.js';

const BIN = new URL('../../bin/vellum.js', import.meta.url).pathname;
const origin = 'bench.vellum.example/log';

/**
 * In-process appends with 8,192 in flight: one `append` call per entry, or (`bulk`)
 * `appendMany` calls of 1,024 entries, the call the `AppendStream` handler makes per message.
 */
export async function inProcess(total: number, durable: boolean, salt: number, bulk = false) {
  const dir = mkdtempSync(join(tmpdir(), 'vellum-bench-inproc-'));
  const signer = parseSignerKey(generateKey(origin).signerKey, { ed25519: nodeEd25519 });
  const log = await TransparencyLog.open(new LevelStore(dir, { durable }), {
    origin,
    signer,
    maxPending: 1 << 20,
  });
  const entries = Array.from({ length: total }, (_, i) => entry(i, salt));
  const t = performance.now();
  const inFlight = 8192;
  for (let at = 0; at < total; at += inFlight) {
    // Each receipt's proof is read: the log walks it only when asked, and a caller keeping
    // receipts asks.
    const slice = entries.slice(at, at + inFlight);
    if (!bulk) {
      await Promise.all(slice.map((e) => log.append(e).then((r) => r.proof)));
      continue;
    }
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < slice.length; i += 1024) {
      calls.push(log.appendMany(slice.slice(i, i + 1024)).then((rs) => rs.map((r) => r.proof)));
    }
    await Promise.all(calls);
  }
  const rate = total / ((performance.now() - t) / 1000);
  await log.close();
  rmSync(dir, { recursive: true, force: true });
  return rate;
}

/**
 * Fills a log in-process (for open time and RSS at sizes a run cannot stream in time), laid out
 * as `vellum serve --data dir` expects: key files beside the LevelDB directory.
 */
export async function fillInProcess(dir: string, total: number) {
  const { signer } = loadOrCreateKey(join(dir, 'log.key'), join(dir, 'log.vkey'), origin);
  const log = await TransparencyLog.open(new LevelStore(join(dir, 'db')), {
    origin,
    signer,
    maxPending: 1 << 20,
  });
  for (let at = 0; at < total; at += 100_000) {
    await Promise.all(entryRange(at, Math.min(100_000, total - at), 99).map((e) => log.append(e)));
  }
  await log.close();
  return signer;
}

export async function openTime(dir: string, signer: ReturnType<typeof parseSignerKey>) {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const log = await TransparencyLog.open(new LevelStore(join(dir, 'db')), { origin: signer.name, signer });
    times.push(performance.now() - t);
    await log.close();
  }
  return times.sort((a, b) => a - b)[2]!;
}

function serve(dir: string) {
  return spawnWithPort([
    BIN,
    'serve',
    '--data',
    dir,
    '--listen',
    '127.0.0.1:0',
    '--metrics-listen',
    'off',
    '--origin',
    origin,
  ]);
}

/**
 * A server on an already filled log: 100,000 streamed appends, then verified batched proofs
 * for `seconds`; the server's RSS after that (the memory a large log costs while in use).
 */
export async function serverOnFilledLog(dir: string, seconds: number) {
  const { child, port } = await serve(dir);
  const address = `127.0.0.1:${port}`;
  const verifierKey = readFileSync(join(dir, 'log.vkey'), 'utf8').trim();
  const clients = Array.from({ length: 4 }, () => createLogClient({ address, verifierKey }));
  await Promise.all(
    clients.map((c, s) =>
      c.appendMany(
        (function* () {
          for (let i = 0; i < 25_000; i += 1000) yield* entryRange(i, 1000, 5000 + s);
        })(),
        { onReceipts: () => {} },
      ),
    ),
  );
  const [trusted] = await Promise.all(clients.map((c) => c.checkpoint()));
  const size = trusted!.checkpoint.size;
  let n = 0;
  const t = performance.now();
  const proofs = await closedLoop(4, seconds, () =>
    clients[n++ % 4]!.inclusionProofs(
      Array.from({ length: 1000 }, () => BigInt(Math.floor(Math.random() * Number(size)))),
      size,
    ),
  );
  const proofRate = (proofs.ops * 1000) / ((performance.now() - t) / 1000);
  const memory = memoryMb(child.pid!);
  for (const c of clients) c.close();
  await stop(child);
  return { size, rssMb: memory.rss, memory, proofRate };
}

export async function overGrpc(opts: { fill: number; seconds: number; streams: number }) {
  const dir = mkdtempSync(join(tmpdir(), 'vellum-bench-grpc-'));
  const { child, port } = await serve(dir);
  const address = `127.0.0.1:${port}`;
  const verifierKey = readFileSync(join(dir, 'log.vkey'), 'utf8').trim();
  const clients: LogClient[] = Array.from({ length: 4 }, () => createLogClient({ address, verifierKey }));

  // Streamed: several AppendStreams, 1,000 entries per message, 4 messages in flight each.
  const perStream = Math.ceil(opts.fill / opts.streams);
  const messageMs: number[] = [];
  const cpu0 = cpuSeconds(child.pid!);
  let t = performance.now();
  await Promise.all(
    Array.from({ length: opts.streams }, (_, s) =>
      clients[s % clients.length]!.appendMany(
        (function* () {
          for (let i = 0; i < perStream; i += 1000)
            yield* entryRange(i, Math.min(1000, perStream - i), 1000 + s);
        })(),
        { chunkSize: 1000, inFlight: 4, onMessage: (_n, ms) => messageMs.push(ms), onReceipts: () => {} },
      ),
    ),
  );
  const streamed = {
    rate: (perStream * opts.streams) / ((performance.now() - t) / 1000),
    ...percentiles(messageMs),
  };
  const serverCpuPerEntryUs = ((cpuSeconds(child.pid!) - cpu0) / (perStream * opts.streams)) * 1e6;
  const size = BigInt(perStream * opts.streams);

  // Proofs on the filled log (exactly `fill` entries: the 1M-entry log), each verified
  // by the client against the checkpoint it trusts: batched inclusion proofs (1,000 per call),
  // unary inclusion and consistency proofs. Nothing is appended meanwhile, so every client
  // trusts the same (latest) checkpoint.
  const [trusted] = await Promise.all(clients.map((c) => c.checkpoint()));
  const proofSize = trusted!.checkpoint.size;
  const rand = (max: bigint) => BigInt(Math.floor(Math.random() * Number(max)));
  let c = 0;
  const next = () => clients[c++ % clients.length]!;
  t = performance.now();
  const batched = await closedLoop(4, opts.seconds, () =>
    next().inclusionProofs(
      Array.from({ length: 1000 }, () => rand(proofSize)),
      proofSize,
    ),
  );
  const batchedProofs = (batched.ops * 1000) / ((performance.now() - t) / 1000);
  const unaryProofs = await closedLoop(64, opts.seconds, () =>
    next().inclusionProof(rand(proofSize), proofSize),
  );
  const consistency = await closedLoop(64, opts.seconds, () =>
    next().consistencyProof(rand(proofSize) + 1n, proofSize),
  );
  // Unary appends at 1, 16, 64 and 256 in flight through one client, as an application holds
  // one; latency is request to verified receipt. (Four clients each verify every checkpoint
  // signature themselves: measured ~10% slower.)
  const unary: Record<string, Awaited<ReturnType<typeof closedLoop>>> = {};
  let n = 0;
  for (const callers of [1, 16, 64, 256]) {
    unary[callers] = await closedLoop(callers, opts.seconds, () => clients[0]!.append(entry(n++, 7)));
  }

  const rss = rssMb(child.pid!);
  for (const c of clients) c.close();
  await stop(child);

  // Disk after compaction, per entry.
  const total = (await (async () => {
    const db = new ClassicLevel(join(dir, 'db'));
    await db.open();
    await db.compactRange('\u0000', '\u00ff');
    await db.close();
    return Number(
      execFileSync('du', ['-sb', join(dir, 'db')])
        .toString()
        .split('\t')[0],
    );
  })()) as number;
  const entries = Number(size) + Object.values(unary).reduce((a, u) => a + u.ops, 0);
  rmSync(dir, { recursive: true, force: true });
  return {
    streamed,
    serverCpuPerEntryUs,
    unary,
    batchedProofs,
    unaryProofs,
    consistency,
    rssMb: rss,
    diskBytesPerEntry: total / entries,
    entries,
  };
}

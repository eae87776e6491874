// Quick in-process measurements of the log core (the full benchmark is `npm run bench`):
// appends/s with fsync for batches of 1, 100 and 1000, and the open time of a log of N entries.
//   npm run bench:quick [-- --entries 1000000]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TransparencyLog } from '../src/log/log.js';
import { nodeEd25519 } from '../src/node-ed25519.js';
import { generateKey, parseSignerKey } from '../src/note/keys.js';
import { LevelStore } from '../src/storage/level-store.js';

const args = process.argv.slice(2);
const entriesArg = args.indexOf('--entries');
const OPEN_SIZE = entriesArg >= 0 ? Number(args[entriesArg + 1]) : 1_000_000;
const origin = 'bench.vellum.example/log';
const signer = parseSignerKey(generateKey(origin).signerKey, { ed25519: nodeEd25519 });

function entry(i: number): Uint8Array {
  const e = new Uint8Array(256);
  new DataView(e.buffer).setFloat64(0, Math.random());
  new DataView(e.buffer).setUint32(8, i);
  return e;
}

async function appendRate(maxBatch: number, total: number, dir: string): Promise<number> {
  const log = await TransparencyLog.open(new LevelStore(dir), {
    origin,
    signer,
    maxBatch,
    maxDelayMs: 1,
    maxPending: 1 << 20,
  });
  const start = performance.now();
  // Keep 2 batches in flight so the next one gathers while the current one commits.
  const inFlight = Math.max(1, maxBatch * 2);
  let next = 0;
  const worker = async () => {
    while (next < total) {
      next++;
      await log.append(entry(next));
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const rate = total / ((performance.now() - start) / 1000);
  await log.close();
  return rate;
}

async function fill(dir: string, n: number): Promise<void> {
  const log = await TransparencyLog.open(new LevelStore(dir), {
    origin,
    signer,
    maxBatch: 1000,
    maxPending: 1 << 20,
  });
  const chunk = 10_000;
  for (let done = 0; done < n; done += chunk) {
    await Promise.all(
      Array.from({ length: Math.min(chunk, n - done) }, (_, i) => log.append(entry(done + i))),
    );
  }
  await log.close();
}

async function openTime(dir: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const log = await TransparencyLog.open(new LevelStore(dir), { origin, signer });
    times.push(performance.now() - t);
    await log.close();
  }
  return times.sort((a, b) => a - b)[2]!; // median of 5
}

const root = mkdtempSync(join(tmpdir(), 'vellum-quick-bench-'));
try {
  console.log('appends/s in-process, 256-byte entries, fsync on every batch (LevelDB):');
  for (const [batch, total] of [
    [1, 2_000],
    [100, 50_000],
    [1000, 200_000],
  ] as const) {
    const rate = await appendRate(batch, total, join(root, `rate-${batch}`));
    console.log(
      `  maxBatch ${String(batch).padStart(4)}: ${Math.round(rate).toLocaleString('en-US')} appends/s (${total} entries)`,
    );
  }
  for (const n of [10_000, OPEN_SIZE]) {
    const dir = join(root, `open-${n}`);
    const t = performance.now();
    await fill(dir, n);
    const fillSeconds = (performance.now() - t) / 1000;
    const ms = await openTime(dir);
    console.log(
      `open time, ${n.toLocaleString('en-US')} entries: ${ms.toFixed(1)} ms (median of 5; filled in ${fillSeconds.toFixed(1)} s)`,
    );
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}

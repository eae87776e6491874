// npm run bench [-- --quick] [-- --large] [-- --out FILE]
// One run that measures vellum, its peer (Hypercore) and the machine's limits on the same
// workload (256-byte entries, fsync on), prints one table with every figure and ratio, and
// writes the same as JSON. Never used for assertions in tests.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { measureHypercore } from './bench/hypercore.js';
import { measureLimits } from './bench/limits.js';
import { fmt } from './bench/stats.js';
import { fillInProcess, inProcess, openTime, overGrpc, serverOnFilledLog } from './bench/vellum.js';

const opts = new Command('bench')
  .option('--quick', 'a short run (under two minutes)')
  .option('--large', 'also build a 10M-entry log for open time and server RSS')
  .option(
    '--out <file>',
    'JSON output',
    `bench-results/bench-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.json`,
  )
  .parse()
  .opts();
const quick = opts.quick === true;
const started = Date.now();
const log = (s: string) => process.stderr.write(`${s}\n`);

log('limits: SHA-256, Ed25519, LevelDB, grpc-js echo …');
const limits = await measureLimits(quick);
log('peer: Hypercore …');
const hypercore = await measureHypercore(quick);
log('vellum in-process …');
const inproc = await inProcess(quick ? 100_000 : 500_000, true, 1);
const inprocNoSync = await inProcess(quick ? 100_000 : 500_000, false, 2);
const inprocBulk = await inProcess(quick ? 100_000 : 500_000, true, 3, true);
log('vellum over gRPC …');
const fill = quick ? 200_000 : 1_000_000;
const grpc = await overGrpc({ fill, seconds: quick ? 3 : 10, streams: 4 });
log('open time …');
const open: Record<string, number> = {};
const sizes = quick ? [10_000, 100_000] : [10_000, 1_000_000, ...(opts.large ? [10_000_000] : [])];
let largest: Awaited<ReturnType<typeof serverOnFilledLog>> | undefined;
for (const n of sizes) {
  const dir = mkdtempSync(join(tmpdir(), 'vellum-bench-open-'));
  const signer = await fillInProcess(dir, n);
  open[n] = await openTime(dir, signer);
  if (n === sizes.at(-1)) {
    log(`server on the ${fmt(n)}-entry log …`);
    largest = await serverOnFilledLog(dir, quick ? 3 : 10);
  }
  rmSync(dir, { recursive: true, force: true });
}

type Row = [string, string, string];
const rows: Row[] = [];
const row = (what: string, value: string, note = '') => rows.push([what, value, note]);
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
const u64 = grpc.unary[64]!;

row(
  "limit: SHA-256 of 64 B (hash-wasm, the server's)",
  `${fmt(limits.sha256Wasm)}/s`,
  `node:crypto.hash ${fmt(limits.sha256Node)}/s, noble ${fmt(limits.sha256Noble)}/s`,
);
row(
  'limit: Ed25519 signs (node:crypto)',
  `${fmt(limits.ed25519SignsNode)}/s`,
  `noble ${fmt(limits.ed25519Signs)}/s`,
);
row('limit: LevelDB chained-batch puts, fsync, 1,000/batch', `${fmt(limits.levelPuts)}/s`);
row(
  'limit: least work of a deduplicated append, fsync',
  `${fmt(limits.dedupAppends)}/s`,
  `leaf hash, node hash, dedup row; ÷ 2× Hypercore best ${ratio(limits.dedupAppends, 2 * hypercore.best)}`,
);
row(
  'limit: grpc-js echo, unary, 64 in flight',
  `${fmt(limits.echoUnary.rate)}/s`,
  `p50 ${fmt(limits.echoUnary.p50, 1)} ms, p99 ${fmt(limits.echoUnary.p99, 1)} ms; ${limits.echoSizes.request} B in, ${limits.echoSizes.response} B out (Append's sizes), 4 clients`,
);
row('limit: grpc-js echo, streamed 256 B messages', `${fmt(limits.echoStream)}/s`);
row('Hypercore append, one by one (no fsync)', `${fmt(hypercore.oneByOne)}/s`);
row('Hypercore append, batches of 100 (no fsync)', `${fmt(hypercore.batch100)}/s`);
row('Hypercore append, batches of 1,000 (no fsync)', `${fmt(hypercore.batch1000)}/s`);
row(
  'Hypercore proofs generated / verified',
  `${fmt(hypercore.proofRate)}/s`,
  `verified ${fmt(hypercore.verifyRate)}/s, ${fmt(hypercore.length)} blocks`,
);
row(
  'vellum in-process appends, fsync',
  `${fmt(inproc)}/s`,
  `÷ Hypercore best ${ratio(inproc, hypercore.best)}; ÷ LevelDB limit ${ratio(inproc, limits.levelPuts)}`,
);
row(
  'vellum in-process appends, no fsync',
  `${fmt(inprocNoSync)}/s`,
  `÷ Hypercore best (equal durability) ${ratio(inprocNoSync, hypercore.best)}`,
);
row(
  'vellum in-process appendMany (1,024 per call), fsync',
  `${fmt(inprocBulk)}/s`,
  `÷ Hypercore best ${ratio(inprocBulk, hypercore.best)}; ÷ least work ${ratio(inprocBulk, limits.dedupAppends)}; the AppendStream handler's call`,
);
row(
  'vellum streamed appends over gRPC (4 streams)',
  `${fmt(grpc.streamed.rate)}/s`,
  `÷ Hypercore best ${ratio(grpc.streamed.rate, hypercore.best)}; per 1,000-entry message p50 ${fmt(grpc.streamed.p50)} ms p99 ${fmt(grpc.streamed.p99)} ms; server CPU ${fmt(grpc.serverCpuPerEntryUs, 1)} µs/entry`,
);
for (const [callers, u] of Object.entries(grpc.unary)) {
  row(
    `vellum unary Append, ${callers} in flight`,
    `${fmt(u.rate)}/s`,
    `p50 ${fmt(u.p50, 1)} ms, p99 ${fmt(u.p99, 1)} ms, p999 ${fmt(u.p999, 1)} ms`,
  );
}
row(
  '  unary@64 ÷ grpc-js echo@64',
  ratio(u64.rate, limits.echoUnary.rate),
  `p99 ÷ echo p99 ${ratio(u64.p99, limits.echoUnary.p99)}`,
);
row(
  `vellum inclusion proofs, batched (1,000/call), ${fmt(fill)} entries`,
  `${fmt(grpc.batchedProofs)}/s`,
  `÷ Hypercore ${ratio(grpc.batchedProofs, hypercore.proofRate)}`,
);
row(
  'vellum inclusion proofs, unary, 64 in flight',
  `${fmt(grpc.unaryProofs.rate)}/s`,
  `p99 ${fmt(grpc.unaryProofs.p99, 1)} ms`,
);
row(
  'vellum consistency proofs, unary, 64 in flight',
  `${fmt(grpc.consistency.rate)}/s`,
  `p99 ${fmt(grpc.consistency.p99, 1)} ms`,
);
row(
  'vellum disk per entry after compaction',
  `${fmt(grpc.diskBytesPerEntry)} B`,
  `entry 256 B + ${fmt(grpc.diskBytesPerEntry - 256)} B; ${fmt(grpc.entries)} entries`,
);
row(`vellum server RSS after the run (${fmt(grpc.entries)} entries)`, `${fmt(grpc.rssMb)} MB`);
if (largest) {
  row(
    `vellum server RSS on a ${fmt(Number(largest.size))}-entry log`,
    `${fmt(largest.rssMb)} MB`,
    `anonymous ${fmt(largest.memory.anon)} MB, mapped files ${fmt(largest.memory.file)} MB; after 100,000 streamed appends and verified batched proofs`,
  );
  row(
    `vellum inclusion proofs, batched, ${fmt(Number(largest.size))} entries`,
    `${fmt(largest.proofRate)}/s`,
    'verified by the client',
  );
}
for (const [n, ms] of Object.entries(open))
  row(`vellum open time, ${fmt(Number(n))} entries`, `${fmt(ms, 1)} ms`, 'median of 5');

const w0 = Math.max(...rows.map((r) => r[0].length));
const w1 = Math.max(...rows.map((r) => r[1].length));
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${fmt(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
console.log(
  `vellum benchmark ${quick ? '(quick) ' : ''}— ${new Date().toISOString().slice(0, 10)} — ${machine}`,
);
for (const [a, b, c] of rows) console.log(`${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`);
console.log(`(${((Date.now() - started) / 1000).toFixed(0)} s)`);

mkdirSync(join(opts.out, '..'), { recursive: true });
const json = {
  date: new Date().toISOString(),
  machine,
  quick,
  limits,
  hypercore,
  inproc,
  inprocNoSync,
  inprocBulk,
  grpc,
  open,
  largest,
};
writeFileSync(
  opts.out,
  JSON.stringify(json, (_, v) => (typeof v === 'bigint' ? v.toString() : v), 2),
);
log(`wrote ${opts.out}`);

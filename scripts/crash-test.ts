// npm run crash-test [-- --cycles N --seed S --unary N --streams N --min-ms N --max-ms N]
// Kills the real server with SIGKILL N times under load and checks that nothing acknowledged
// was lost and nothing forked. Exits 1 on any loss or fork.
import { Command } from 'commander';
import { runCrashHarness } from './crash-harness.js';

const opts = new Command('crash-test')
  .option('--cycles <n>', 'SIGKILLs to deliver', '50')
  .option('--seed <n>', 'random seed', String(Date.now() % 1_000_000))
  .option('--unary <n>', 'concurrent unary clients', '8')
  .option('--streams <n>', 'concurrent AppendStream clients', '2')
  .option('--min-ms <n>', 'shortest run before a kill', '20')
  .option('--max-ms <n>', 'longest run before a kill', '400')
  .parse()
  .opts();

const started = Date.now();
const summary = await runCrashHarness({
  cycles: Number(opts.cycles),
  seed: Number(opts.seed),
  unaryClients: Number(opts.unary),
  streamClients: Number(opts.streams),
  minRunMs: Number(opts.minMs),
  maxRunMs: Number(opts.maxMs),
  onCycle: (s) => {
    if (s.cycles % 10 === 0 || s.problems.length > 0) {
      process.stderr.write(
        `cycle ${s.cycles}: acknowledged ${s.acknowledged}, size ${s.size}, lost ${s.lost}, forks ${s.forks}\n`,
      );
    }
  },
});
const seconds = ((Date.now() - started) / 1000).toFixed(0);
console.log(`crash test (seed ${opts.seed}, ${seconds} s)`);
console.log(`  kills (SIGKILL)           ${summary.cycles}`);
console.log(`  entries acknowledged      ${summary.acknowledged}`);
console.log(`  receipts re-verified      ${summary.receiptsChecked}`);
console.log(`  final tree size           ${summary.size}`);
console.log(`  entries lost              ${summary.lost}`);
console.log(`  forks (two roots a size)  ${summary.forks}`);
console.log(`  shrinks                   ${summary.shrinks}`);
console.log(`  fsck after a kill         ${summary.fscks} runs, ${summary.corrupt} found damage`);
for (const p of summary.problems) console.log(`  problem: ${p}`);
process.exitCode =
  summary.lost === 0 && summary.forks === 0 && summary.shrinks === 0 && summary.corrupt === 0 ? 0 : 1;

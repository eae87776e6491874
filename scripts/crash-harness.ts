// The crash harness (issue: nothing acknowledged is ever lost). Starts the real server as a
// child process on a real data dir, drives appends from concurrent unary and streaming
// clients, records every acknowledged entry with its receipt, SIGKILLs the server at a random
// moment, restarts it and checks, every cycle:
//   - every acknowledged entry is present at its index with the same leaf hash;
//   - every receipt still verifies, against a checkpoint consistent with the new one;
//   - no two signed checkpoints share a size with different roots;
//   - the tree never shrinks.
import type { ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogClient, type LogClient } from '../client/log-client.js';
import { fsckDataDir } from '../src/fsck.js';
import { defaultHasher as H } from '../src/merkle/hash.js';
import { verifyConsistency, verifyInclusion } from '../src/merkle/verify.js';
import { encodeBase64 } from '../src/note/encoding.js';
import { parseVerifierKey, type Verifier } from '../src/note/keys.js';
import { parseReceipt, verifyReceipt } from '../src/note/receipt.js';
import { spawnWithPort } from './bench/process.js';

const ROOT = new URL('..', import.meta.url).pathname;

/**
 * A private copy of the build for the whole run, so rebuilding dist/ meanwhile cannot change
 * the server under test. It lives inside the project so node_modules still resolves.
 */
function snapshotBuild(): { main: string; cleanup(): void } {
  const dir = mkdtempSync(join(ROOT, '.crash-build-'));
  cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
  return {
    main: join(dir, 'dist', 'src', 'cli', 'main.js'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface CrashOptions {
  cycles: number;
  unaryClients: number;
  streamClients: number;
  /** The server is killed between minRunMs and maxRunMs after it starts serving appends. */
  minRunMs: number;
  maxRunMs: number;
  /** Seeded so a failing run can be repeated. */
  seed: number;
  dataDir?: string;
  onCycle?: (summary: CrashSummary) => void;
}

export interface CrashSummary {
  cycles: number;
  acknowledged: number;
  lost: number;
  forks: number;
  shrinks: number;
  receiptsChecked: number;
  /** Offline fsck runs on the data dir right after a kill, and how many found damage. */
  fscks: number;
  corrupt: number;
  size: bigint;
  problems: string[];
}

interface Ack {
  leafHash: Uint8Array;
  receipt: string;
}

function random(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

async function startServer(main: string, dataDir: string): Promise<{ child: ChildProcess; address: string }> {
  const args = [
    main,
    'serve',
    '--data',
    dataDir,
    '--listen',
    '127.0.0.1:0',
    '--metrics-listen',
    'off',
    '--max-delay-ms',
    '1',
  ];
  const { child, port } = await spawnWithPort(args);
  return { child, address: `127.0.0.1:${port}` };
}

export async function runCrashHarness(options: CrashOptions): Promise<CrashSummary> {
  const rand = random(options.seed);
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'vellum-crash-'));
  const build = snapshotBuild();
  let keep = false;
  const acked = new Map<bigint, Ack>();
  const rootsBySize = new Map<bigint, string>();
  const summary: CrashSummary = {
    cycles: 0,
    acknowledged: 0,
    lost: 0,
    forks: 0,
    shrinks: 0,
    receiptsChecked: 0,
    fscks: 0,
    corrupt: 0,
    size: 0n,
    problems: [],
  };
  const problem = (p: string) => {
    if (summary.problems.length < 20) summary.problems.push(p);
  };
  const recordRoot = (size: bigint, root: Uint8Array, where: string) => {
    const r = encodeBase64(root);
    const seen = rootsBySize.get(size);
    if (seen !== undefined && seen !== r) {
      summary.forks++;
      problem(`two roots for size ${size} (${where})`);
    }
    rootsBySize.set(size, r);
  };
  let counter = 0;
  let previousSize = 0n;
  let previousRoot: Uint8Array | undefined;
  /** Acknowledged since the last check: older ones are covered by consistency (transitive). */
  let fresh = new Map<bigint, Ack>();
  try {
    for (let cycle = 0; cycle < options.cycles; cycle++) {
      const { child, address } = await startServer(build.main, dataDir);
      const vkey = parseVerifierKey(readFileSync(join(dataDir, 'log.vkey'), 'utf8').trim());
      const exited = new Promise<void>((r) => child.once('exit', () => r()));

      // ---- verify what survived the previous kill
      const checker = createLogClient({ address, verifierKey: vkey });
      const latest = await checker.checkpoint();
      const size = latest.checkpoint.size;
      recordRoot(size, latest.checkpoint.rootHash, `latest after restart ${cycle}`);
      if (size < previousSize) {
        summary.shrinks++;
        problem(`tree shrank from ${previousSize} to ${size}`);
      }
      // The previous latest must be a prefix of this one; then everything checked against it
      // still holds, and only what was acknowledged since needs checking.
      if (previousRoot !== undefined && size >= previousSize) {
        await checkPrefix(
          checker,
          previousSize,
          previousRoot,
          size,
          latest.checkpoint.rootHash,
          summary,
          problem,
        );
      }
      // Every 50 cycles, re-read everything acknowledged so far; consistency proofs are asked only
      // for new receipt checkpoints (older ones are carried forward by the prefix checks).
      const full = cycle % 50 === 0;
      await verifyAcked(
        checker,
        full ? acked : fresh,
        acked,
        size,
        summary,
        problem,
        recordRoot,
        latest.checkpoint.rootHash,
        fresh,
      );
      fresh = new Map();
      previousSize = size;
      previousRoot = latest.checkpoint.rootHash;
      summary.size = size;

      // ---- drive load, then kill at a random moment
      let stop = false;
      const clients: LogClient[] = [];
      const record = (entry: Uint8Array, r: { index: bigint; leafHash: Uint8Array; receipt: string }) => {
        const prev = acked.get(r.index);
        if (prev && encodeBase64(prev.leafHash) !== encodeBase64(r.leafHash)) {
          summary.forks++;
          problem(`index ${r.index} acknowledged twice with different entries`);
        }
        if (encodeBase64(H.leafHash(entry)) !== encodeBase64(r.leafHash))
          problem(`leaf hash mismatch at ${r.index}`);
        if (!prev) {
          acked.set(r.index, { leafHash: r.leafHash, receipt: r.receipt });
          fresh.set(r.index, { leafHash: r.leafHash, receipt: r.receipt });
        }
      };
      const unary = Array.from({ length: options.unaryClients }, async (_, k) => {
        const c = createLogClient({ address, verifierKey: vkey });
        clients.push(c);
        while (!stop) {
          const entry = new TextEncoder().encode(`cycle ${cycle} unary ${k} #${counter++}`);
          try {
            record(entry, await c.append(entry));
          } catch {
            return; // the server died: this append was not acknowledged
          }
        }
      });
      const streams = Array.from({ length: options.streamClients }, async (_, k) => {
        const c = createLogClient({ address, verifierKey: vkey });
        clients.push(c);
        while (!stop) {
          const entries = Array.from({ length: 200 }, () =>
            new TextEncoder().encode(`cycle ${cycle} stream ${k} #${counter++}`),
          );
          try {
            const rs = await c.appendMany(entries, { chunkSize: 50, inFlight: 2 });
            for (const [i, r] of rs.entries()) record(entries[i]!, r);
          } catch {
            return;
          }
        }
      });
      const runFor = options.minRunMs + rand() * (options.maxRunMs - options.minRunMs);
      await new Promise((r) => setTimeout(r, runFor));
      child.kill('SIGKILL');
      await exited;
      stop = true;
      // Between the kill and the restart, the data dir itself must be whole: no partial batch.
      if (cycle % 10 === 9) await offlineCheck(dataDir, vkey, summary, problem);
      await Promise.all([...unary, ...streams]);
      for (const c of [...clients, checker]) c.close();
      summary.cycles++;
      summary.acknowledged = acked.size;
      options.onCycle?.(summary);
    }
    // A final restart to check the last kill.
    const { child, address } = await startServer(build.main, dataDir);
    const vkey = parseVerifierKey(readFileSync(join(dataDir, 'log.vkey'), 'utf8').trim());
    const checker = createLogClient({ address, verifierKey: vkey });
    const latest = await checker.checkpoint();
    recordRoot(latest.checkpoint.size, latest.checkpoint.rootHash, 'final');
    if (latest.checkpoint.size < previousSize) summary.shrinks++;
    else if (previousRoot !== undefined) {
      await checkPrefix(
        checker,
        previousSize,
        previousRoot,
        latest.checkpoint.size,
        latest.checkpoint.rootHash,
        summary,
        problem,
      );
    }
    await verifyAcked(
      checker,
      acked,
      acked,
      latest.checkpoint.size,
      summary,
      problem,
      recordRoot,
      latest.checkpoint.rootHash,
      fresh,
    );
    summary.size = latest.checkpoint.size;
    checker.close();
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGKILL');
    await exited;
    await offlineCheck(dataDir, vkey, summary, problem);
  } catch (e) {
    keep = true; // evidence: keep the data dir of a failed run
    throw new Error(`${(e as Error).message}\n(data dir kept at ${dataDir})`);
  } finally {
    build.cleanup();
    keep ||= summary.problems.length > 0;
    if (options.dataDir === undefined && !keep) rmSync(dataDir, { recursive: true, force: true });
  }
  return summary;
}

async function offlineCheck(
  dataDir: string,
  vkey: Verifier,
  summary: CrashSummary,
  problem: (p: string) => void,
) {
  const r = await fsckDataDir(dataDir, vkey);
  summary.fscks++;
  for (const p of r.problems) problem(`fsck after a kill: ${p.message}`);
  if (!r.ok) summary.corrupt++;
}

async function checkPrefix(
  client: LogClient,
  size1: bigint,
  root1: Uint8Array,
  size2: bigint,
  root2: Uint8Array,
  summary: CrashSummary,
  problem: (p: string) => void,
): Promise<void> {
  try {
    const c = await client.consistencyProof(size1, size2);
    verifyConsistency({ size1, size2, root1, root2, proof: c.proof }, H);
  } catch (e) {
    summary.forks++;
    problem(`checkpoint ${size1} is not a prefix of ${size2}: ${(e as Error).message}`);
  }
}

/**
 * The acknowledged entries in `check` are at their index with the same leaf hash, and their
 * receipts verify against checkpoints that are prefixes of the latest one.
 */
async function verifyAcked(
  client: LogClient,
  check: Map<bigint, Ack>,
  acked: Map<bigint, Ack>,
  size: bigint,
  summary: CrashSummary,
  problem: (p: string) => void,
  recordRoot: (size: bigint, root: Uint8Array, where: string) => void,
  latestRoot: Uint8Array,
  /** Receipts whose checkpoints have not yet been shown to be prefixes of a later latest one. */
  unproven: Map<bigint, Ack>,
): Promise<void> {
  const indexes = [...check.keys()].sort((a, b) => (a < b ? -1 : 1));
  const missing = [...acked.keys()].filter((i) => i >= size);
  summary.lost = Math.max(summary.lost, missing.length);
  for (const i of missing.slice(0, 5)) problem(`acknowledged index ${i} lost (size ${size})`);
  if (indexes.length === 0) return;
  // Entries: one streamed read from the first index to check, compared at every one of them.
  let at = indexes[0]!;
  for await (const chunk of client.entries(at, size)) {
    for (const e of chunk) {
      const a = check.get(at);
      if (a && encodeBase64(H.leafHash(e)) !== encodeBase64(a.leafHash)) {
        summary.lost++;
        problem(`entry ${at} differs from the acknowledged one`);
      }
      at++;
    }
  }
  // Receipts: each distinct checkpoint they carry must be a prefix of the latest tree.
  const byNote = new Map<string, Ack[]>();
  for (const a of check.values()) {
    const note = a.receipt.slice(a.receipt.indexOf('\n\n') + 2);
    byNote.set(note, [...(byNote.get(note) ?? []), a]);
  }
  const key = client.verifier;
  for (const [, acks] of byNote) {
    // The note's signature once, then each receipt's inclusion proof against it.
    const { checkpoint } = verifyReceipt(acks[0]!.receipt, acks[0]!.leafHash, [key]);
    const checkpointSize = checkpoint.size;
    const checkpointRoot = checkpoint.rootHash;
    for (const a of acks) {
      const r = parseReceipt(a.receipt);
      try {
        verifyInclusion(
          {
            index: r.index,
            size: checkpointSize,
            leafHash: a.leafHash,
            proof: r.proof,
            rootHash: checkpointRoot,
          },
          H,
        );
      } catch (e) {
        problem(`receipt for index ${r.index} no longer verifies: ${(e as Error).message}`);
      }
      summary.receiptsChecked++;
    }
    recordRoot(checkpointSize, checkpointRoot, 'receipt');
    if (checkpointSize > size) continue; // counted as lost above
    if (!acks.some((a) => unproven.has(parseReceipt(a.receipt).index))) continue;
    try {
      const c = await client.consistencyProof(checkpointSize, size);
      verifyConsistency(
        { size1: checkpointSize, size2: size, root1: checkpointRoot, root2: latestRoot, proof: c.proof },
        H,
      );
    } catch (e) {
      summary.forks++;
      problem(`receipt checkpoint ${checkpointSize} not consistent with ${size}: ${(e as Error).message}`);
    }
  }
}

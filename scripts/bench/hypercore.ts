// The peer: Hypercore (an append-only log with an Ed25519-signed Merkle tree) on the same
// entries. Its storage does not fsync on append, so it is compared at its own durability.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Hypercore from 'hypercore';
import { entry } from './stats.js';

export async function measureHypercore(quick: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'vellum-bench-hypercore-'));
  const core = new Hypercore(join(dir, 'core'));
  await core.ready();
  const rate = async (n: number, batch: number, salt: number) => {
    const entries = Array.from({ length: n }, (_, i) => Buffer.from(entry(i, salt)));
    const t = performance.now();
    if (batch === 1) for (const e of entries) await core.append(e);
    else for (let i = 0; i < n; i += batch) await core.append(entries.slice(i, i + batch));
    return n / ((performance.now() - t) / 1000);
  };
  const oneByOne = await rate(quick ? 2_000 : 10_000, 1, 1);
  const batch100 = await rate(quick ? 50_000 : 200_000, 100, 2);
  const batch1000 = await rate(quick ? 100_000 : 500_000, 1000, 3);
  const n = quick ? 2_000 : 10_000;
  const length = core.length;
  let t = performance.now();
  const proofs = [];
  for (let i = 0; i < n; i++) {
    const index = Math.floor(Math.random() * length);
    proofs.push(await core.proof({ block: { index, nodes: 0 }, upgrade: { start: 0, length } }));
  }
  const proofRate = n / ((performance.now() - t) / 1000);
  t = performance.now();
  for (const p of proofs.slice(0, n / 2)) await core.verifyFullyRemote(p);
  const verifyRate = n / 2 / ((performance.now() - t) / 1000);
  await core.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    oneByOne,
    batch100,
    batch1000,
    best: Math.max(batch100, batch1000),
    proofRate,
    verifyRate,
    length,
  };
}

// The short crash run (the long one is `npm run crash-test -- --cycles 1000`), and SIGTERM under load.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { createLogClient } from '../../client/log-client.js';
import { runCrashHarness } from '../../scripts/crash-harness.js';
import { defaultHasher as H } from '../../src/merkle/hash.js';
import { utf8 } from '../helpers/vectors.js';

const BIN = new URL('../../bin/vellum.js', import.meta.url).pathname;

function startServer(data: string): Promise<{ child: ChildProcess; address: string }> {
  const child = spawn(
    process.execPath,
    [BIN, 'serve', '--data', data, '--listen', '127.0.0.1:0', '--metrics-listen', 'off'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b;
      const m = /"port":(\d+)/.exec(out);
      if (m) resolve({ child, address: `127.0.0.1:${m[1]}` });
    });
    child.once('exit', (c) => reject(new Error(`exited ${c}`)));
  });
}

describe('crashes and shutdown', () => {
  it('SIGKILL at random moments under unary and streamed load loses nothing acknowledged and never forks', async () => {
    const s = await runCrashHarness({
      cycles: 4,
      unaryClients: 4,
      streamClients: 1,
      minRunMs: 50,
      maxRunMs: 300,
      seed: 7,
    });
    expect(s.problems).toEqual([]);
    expect(s).toMatchObject({ cycles: 4, lost: 0, forks: 0, shrinks: 0, corrupt: 0 });
    expect(s.fscks).toBeGreaterThanOrEqual(1);
    expect(s.acknowledged).toBeGreaterThan(0);
  });

  it('SIGTERM under load answers or cleanly refuses every append, and a restart loses nothing', async () => {
    const data = mkdtempSync(join(tmpdir(), 'vellum-sigterm-'));
    try {
      const { child, address } = await startServer(data);
      const vkey = readFileSync(join(data, 'log.vkey'), 'utf8').trim();
      const acked: { index: bigint; entry: Uint8Array }[] = [];
      const refused: number[] = [];
      let stop = false;
      const workers = Array.from({ length: 8 }, async (_, k) => {
        const c = createLogClient({ address, verifierKey: vkey });
        for (let i = 0; !stop; i++) {
          const entry = utf8(`sigterm ${k} ${i}`);
          try {
            acked.push({ index: (await c.append(entry)).index, entry });
          } catch (e) {
            refused.push((e as { evidence?: { status?: number } }).evidence?.status ?? -1);
            break;
          }
        }
        c.close();
      });
      await new Promise((r) => setTimeout(r, 400));
      const exited = new Promise<number | null>((r) => child.once('exit', r));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      stop = true;
      await Promise.all(workers);
      // Refusals are clean: the server said it is going away, or the connection was closed.
      for (const code of refused) expect([status.UNAVAILABLE, status.CANCELLED]).toContain(code);
      expect(acked.length).toBeGreaterThan(0);

      const again = await startServer(data);
      const c = createLogClient({ address: again.address, verifierKey: vkey });
      const size = (await c.checkpoint()).checkpoint.size;
      const byIndex = new Map<bigint, Uint8Array>();
      let at = 0n;
      for await (const chunk of c.entries(0n, size)) for (const e of chunk) byIndex.set(at++, e);
      for (const a of acked) expect(H.leafHash(byIndex.get(a.index)!)).toEqual(H.leafHash(a.entry));
      c.close();
      again.child.kill('SIGKILL');
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });
});

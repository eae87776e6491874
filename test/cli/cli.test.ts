// The CLI run as a user runs it: spawned, against a spawned server, every command, --json and
// exit codes (0 ok, 1 verification failed, 2 usage or connection error).
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = new URL('../../bin/vellum.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'vellum-cli-'));
let server: ChildProcess;
let address = '';
let vkeyFile = '';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function vellum(args: string[], input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      'node',
      [BIN, ...args],
      { cwd: dir, timeout: 30_000, maxBuffer: 64 << 20 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 99) : 0, stdout, stderr }),
    );
    if (input !== undefined) child.stdin!.end(input);
    else child.stdin!.end();
  });
}

const client = () => ['--server', address, '--vkey', vkeyFile];
const json = (r: Run) =>
  r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

beforeAll(async () => {
  const data = join(dir, 'data');
  server = spawn(
    'node',
    [
      BIN,
      'serve',
      '--data',
      data,
      '--listen',
      '127.0.0.1:0',
      '--metrics-listen',
      'off',
      '--origin',
      'cli.vellum.example/log',
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    server.stdout!.on('data', (b: Buffer) => {
      out += b;
      const m = /"port":(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    server.on('exit', (c) => reject(new Error(`server exited ${c}: ${out}`)));
  });
  address = `127.0.0.1:${port}`;
  vkeyFile = join(data, 'log.vkey');
});

afterAll(() => {
  server.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('vellum CLI', () => {
  it('keygen writes Go-compatible keys', async () => {
    const r = await vellum(['keygen', '--origin', 'example.com/k', '--json']);
    expect(r.code).toBe(0);
    const [k] = json(r);
    expect(k.signerKey).toMatch(/^PRIVATE\+KEY\+example\.com\/k\+[0-9a-f]{8}\+/);
    expect(k.verifierKey).toMatch(/^example\.com\/k\+[0-9a-f]{8}\+/);
  });

  it('append from arguments, --file, stdin and --jsonl; then verify-receipt offline', async () => {
    const args = await vellum(['append', ...client(), '--json', 'login alice', 'read record 7']);
    expect(args.code).toBe(0);
    const [a, b] = json(args);
    expect([a.index, b.index]).toEqual([0, 1]);
    expect(a.receipt).toMatch(/^c2sp\.org\/tlog-proof@v1\nindex 0\n/);
    writeFileSync(join(dir, 'event.bin'), 'binary \u0000 event');
    expect(json(await vellum(['append', ...client(), '--json', '--file', 'event.bin']))[0].index).toBe(2);
    expect(json(await vellum(['append', ...client(), '--json'], 'from stdin'))[0].index).toBe(3);
    writeFileSync(join(dir, 'bulk.jsonl'), Array.from({ length: 2500 }, (_, i) => `{"n":${i}}`).join('\n'));
    const bulk = json(await vellum(['append', ...client(), '--json', '--jsonl', 'bulk.jsonl']));
    expect(bulk.map((r) => r.index)).toEqual(Array.from({ length: 2500 }, (_, i) => i + 4));

    writeFileSync(join(dir, 'a.tlog-proof'), a.receipt);
    writeFileSync(join(dir, 'a.entry'), 'login alice');
    writeFileSync(join(dir, 'wrong.entry'), 'login mallory');
    const ok = await vellum(['verify-receipt', 'a.tlog-proof', 'a.entry', '--vkey', vkeyFile, '--json']);
    expect(ok.code).toBe(0);
    expect(json(ok)[0]).toMatchObject({ ok: true, index: 0 });
    expect((await vellum(['verify-receipt', 'a.tlog-proof', 'wrong.entry', '--vkey', vkeyFile])).code).toBe(
      1,
    );
    writeFileSync(join(dir, 'bad.tlog-proof'), a.receipt.replace('index 0', 'index 1'));
    expect((await vellum(['verify-receipt', 'bad.tlog-proof', 'a.entry', '--vkey', vkeyFile])).code).toBe(1);
  });

  it('checkpoint, prove, consistency and get print verified data', async () => {
    const [cp] = json(await vellum(['checkpoint', ...client(), '--json']));
    expect(cp).toMatchObject({ origin: 'cli.vellum.example/log', size: 2504 });
    expect(cp.checkpoint).toContain(`\n${cp.rootHash}\n\n— cli.vellum.example/log `);

    const [p] = json(await vellum(['prove', '1', ...client(), '--json']));
    expect(p).toMatchObject({ index: 1, size: 2504 });
    expect(p.proof.length).toBeGreaterThan(0);
    const [byHash] = json(await vellum(['prove', '--hash', p.leafHash, ...client(), '--json']));
    expect(byHash.index).toBe(1);

    const [c] = json(await vellum(['consistency', '10', '200', ...client(), '--json']));
    expect(c).toMatchObject({ size1: 10, size2: 200 });
    const [latest] = json(await vellum(['consistency', '10', ...client(), '--json']));
    expect(latest.root2).toBe(cp.rootHash);

    const [g] = json(await vellum(['get', '2', ...client(), '--json']));
    expect(Buffer.from(g.entry, 'base64').toString()).toBe('binary \u0000 event');
    expect((await vellum(['get', '0', ...client()])).stdout).toBe('login alice');
  });

  it('watch follows checkpoints; audit recomputes the whole tree', async () => {
    const watching = vellum(['watch', ...client(), '--json', '--count', '2']);
    await new Promise((r) => setTimeout(r, 500));
    await vellum(['append', ...client(), 'watched event']);
    const w = await watching;
    expect(w.code).toBe(0);
    const sizes = json(w).map((c) => c.size);
    expect(sizes[1]).toBeGreaterThan(sizes[0]);
    const audit = await vellum(['audit', ...client(), '--json']);
    expect(audit.code).toBe(0);
    expect(json(audit)[0]).toMatchObject({ ok: true, size: 2505 });
  });

  it('a trusted state file catches a log that is replaced by another history', async () => {
    const state = join(dir, 'trusted.json');
    expect((await vellum(['checkpoint', ...client(), '--state', state])).code).toBe(0);
    expect(JSON.parse(readFileSync(state, 'utf8')).size).toBe('2505');
    const forged = JSON.parse(readFileSync(state, 'utf8'));
    writeFileSync(
      state,
      JSON.stringify({ ...forged, checkpoint: forged.checkpoint.replace(/\n\d+\n/, '\n999\n') }),
    );
    expect((await vellum(['checkpoint', ...client(), '--state', state])).code).toBe(1);
  });

  it('usage and connection errors exit 2, with a clear message', async () => {
    const bad = await vellum(['prove', 'seven', ...client()]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('INDEX must be a whole number');
    const range = await vellum(['prove', '100000', ...client(), '--json']);
    expect(range.code).toBe(2);
    expect(json(range)[0].error.message).toContain('not below size');
    expect((await vellum(['checkpoint', '--server', '127.0.0.1:1', '--vkey', vkeyFile])).code).toBe(2);
    expect((await vellum(['no-such-command'])).code).toBe(2);
    expect((await vellum(['append', '--help'])).code).toBe(0);
    const conf = await vellum(['serve', '--data', join(dir, 'x'), '--max-batch', 'lots']);
    expect(conf.code).toBe(2);
    expect(conf.stderr).toContain('maxBatch');
  });

  it('serve shuts down cleanly on SIGTERM and restarts on the same data', async () => {
    const data = join(dir, 'restart');
    const start = () =>
      new Promise<{ child: ChildProcess; port: number }>((resolve, reject) => {
        const child = spawn(
          'node',
          [BIN, 'serve', '--data', data, '--listen', '127.0.0.1:0', '--metrics-listen', 'off'],
          {
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        let out = '';
        child.stdout!.on('data', (b: Buffer) => {
          out += b;
          const m = /"port":(\d+)/.exec(out);
          if (m) resolve({ child, port: Number(m[1]) });
        });
        child.on('exit', (c) => reject(new Error(`exited ${c}`)));
      });
    const first = await start();
    const args = ['--server', `127.0.0.1:${first.port}`, '--vkey', join(data, 'log.vkey'), '--json'];
    await vellum(['append', ...args, 'kept across restart']);
    const [before] = json(await vellum(['checkpoint', ...args]));
    const exited = new Promise<number | null>((r) => first.child.on('exit', r));
    first.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const second = await start();
    const args2 = ['--server', `127.0.0.1:${second.port}`, '--vkey', join(data, 'log.vkey'), '--json'];
    const [after] = json(await vellum(['checkpoint', ...args2]));
    expect(after.checkpoint).toBe(before.checkpoint);
    second.child.kill('SIGKILL');
  });
});

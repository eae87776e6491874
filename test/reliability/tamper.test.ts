// Tamper detection: flip bytes in a real data dir and check that fsck catches each flip and
// names the entry, tile or checkpoint it hit (or, for raw flips in LevelDB's own files that
// fsck reports clean, that the stored data is in fact unchanged).
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Level } from 'level';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fsck } from '../../src/fsck.js';
import { TransparencyLog } from '../../src/log/log.js';
import { formatTilePath } from '../../src/merkle/tiles.js';
import { formatVerifierKey } from '../../src/note/keys.js';
import { readUint64Key } from '../../src/storage/keys.js';
import { LevelStore } from '../../src/storage/level-store.js';
import { signer, verifier } from '../helpers/log.js';
import { utf8 } from '../helpers/vectors.js';

const root = mkdtempSync(join(tmpdir(), 'vellum-tamper-'));
const pristine = join(root, 'pristine');
const SPACES = { e: 'entries', t: 'tiles', d: 'dedup', c: 'checkpoints' } as const;
type Space = keyof typeof SPACES;

beforeAll(async () => {
  const log = await TransparencyLog.open(new LevelStore(join(pristine, 'db')), {
    origin: verifier.name,
    signer,
    maxBatch: 97,
  });
  // 70,000 entries would take long; 600 spans two full level-0 tiles, a partial one and level 1.
  for (let i = 0; i < 6; i++)
    await Promise.all(Array.from({ length: 100 }, (_, j) => log.append(utf8(`event ${i}-${j}`))));
  await log.close();
  writeFileSync(join(pristine, 'log.vkey'), `${formatVerifierKey(verifier)}\n`);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function records(dir: string): Promise<Map<string, Uint8Array>> {
  const db = new Level<Uint8Array, Uint8Array>(join(dir, 'db'), {
    keyEncoding: 'view',
    valueEncoding: 'view',
  });
  const out = new Map<string, Uint8Array>();
  try {
    for await (const [k, v] of db.iterator()) out.set(Buffer.from(k).toString('hex'), new Uint8Array(v));
  } finally {
    await db.close();
  }
  return out;
}

async function runFsck(dir: string) {
  const store = new LevelStore(join(dir, 'db'));
  await store.open(verifier.name);
  try {
    return await fsck(store, verifier);
  } finally {
    await store.close();
  }
}

describe('tamper detection', () => {
  it('the pristine data dir passes', async () => {
    const r = await runFsck(pristine);
    expect(r).toMatchObject({ ok: true, size: 600n, entries: 600n });
    expect(r.problems).toEqual([]);
  });

  it('every flipped bit in a stored entry, tile, checkpoint or dedup row is caught and named', async () => {
    const all = [...(await records(pristine)).entries()].filter(([k]) =>
      'etdc'.includes(String.fromCharCode(Number.parseInt(k.slice(0, 2), 16))),
    );
    let trial = 0;
    await fc.assert(
      fc.asyncProperty(fc.nat(all.length - 1), fc.nat(), async (which, bit) => {
        const [keyHex, value] = all[which]!;
        const key = Buffer.from(keyHex, 'hex');
        const space = String.fromCharCode(key[0]!) as Space;
        const dir = join(root, `flip-${trial++}`);
        cpSync(pristine, dir, { recursive: true });
        const flipped = value.slice();
        flipped[Math.floor((bit % (value.length * 8)) / 8)]! ^= 1 << (bit % 8);
        const db = new Level<Uint8Array, Uint8Array>(join(dir, 'db'), {
          keyEncoding: 'view',
          valueEncoding: 'view',
        });
        await db.put(key, flipped);
        await db.close();

        const r = await runFsck(dir);
        rmSync(dir, { recursive: true, force: true });
        expect(r.ok, `flip in ${SPACES[space]} went unnoticed`).toBe(false);
        const first = r.problems[0]!;
        const rest = key.subarray(1);
        if (space === 'e') expect(first).toMatchObject({ index: readUint64Key(rest) });
        if (space === 'd') expect(first).toMatchObject({ kind: 'dedup' });
        if (space === 'c')
          expect(r.problems).toContainEqual(
            expect.objectContaining({ kind: 'checkpoint', size: readUint64Key(rest) }),
          );
        if (space === 't') {
          const level = rest[8]!;
          const end = readUint64Key(rest);
          const width = Number((end >> BigInt(8 * level)) % 256n) || 256;
          const index = ((end >> BigInt(8 * level)) - BigInt(width)) / 256n;
          expect(first).toMatchObject({ kind: 'tile', tile: formatTilePath({ level, index }, index, width) });
        }
      }),
      { numRuns: 40 },
    );
  });

  it('raw bit flips in the LevelDB files are caught, or leave the stored data unchanged', async () => {
    const before = await records(pristine);
    let detected = 0;
    let harmless = 0;
    for (let trial = 0; trial < 30; trial++) {
      const dir = join(root, `raw-${trial}`);
      cpSync(pristine, dir, { recursive: true });
      const files = readdirSync(join(dir, 'db')).filter((f) => /\.(ldb|log)$/.test(f));
      const file = join(dir, 'db', files[trial % files.length]!);
      const bytes = readFileSync(file);
      const at = Math.floor(Math.random() * bytes.length);
      bytes[at]! ^= 1 << (trial % 8);
      writeFileSync(file, bytes);
      let r: Awaited<ReturnType<typeof runFsck>> | undefined;
      try {
        r = await runFsck(dir);
      } catch {
        detected++; // LevelDB itself refused the damaged store
        rmSync(dir, { recursive: true, force: true });
        continue;
      }
      if (!r.ok) detected++;
      else {
        const after = await records(dir);
        expect(after).toEqual(before);
        harmless++;
      }
      rmSync(dir, { recursive: true, force: true });
    }
    expect(detected + harmless).toBe(30);
    expect(detected).toBeGreaterThan(0);
  });

  it('vellum fsck exits 1 and names the damage', async () => {
    const dir = join(root, 'cli');
    cpSync(pristine, dir, { recursive: true });
    const db = new Level<Uint8Array, Uint8Array>(join(dir, 'db'), {
      keyEncoding: 'view',
      valueEncoding: 'view',
    });
    const key = new Uint8Array([0x65, 0, 0, 0, 0, 0, 0, 1, 0x2c]); // entry 300
    await db.put(key, utf8('rewritten'));
    await db.close();
    const bin = new URL('../../bin/vellum.js', import.meta.url).pathname;
    const run = (args: string[]) =>
      new Promise<{ code: number; stdout: string }>((resolve) =>
        execFile('node', [bin, ...args], (err, stdout) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 99) : 0, stdout }),
        ),
      );
    const bad = await run(['fsck', '--data', dir]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('entry 300');
    expect((await run(['fsck', '--data', pristine, '--json'])).code).toBe(0);
  });
});

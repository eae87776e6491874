// Tamper detection: flip bytes in a real data dir and check that fsck catches each flip and
// names the entry, tile or checkpoint it hit (or, for raw flips in LevelDB's own files that
// fsck reports clean, that the stored data is in fact unchanged). Entries live in the entry
// file, full tiles in the tile files, the rest in LevelDB rows; all are flipped.
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Level } from 'level';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fsckDataDir } from '../../src/fsck.js';
import { TransparencyLog } from '../../src/log/log.js';
import { formatTilePath } from '../../src/merkle/tiles.js';
import { formatVerifierKey } from '../../src/note/keys.js';
import { readUint64Key, tileOfKey } from '../../src/storage/keys.js';
import { LevelStore } from '../../src/storage/level-store.js';
import { decodeSpan } from '../../src/storage/spans.js';
import { signer, verifier } from '../helpers/log.js';
import { utf8 } from '../helpers/vectors.js';

const root = mkdtempSync(join(tmpdir(), 'vellum-tamper-'));
const pristine = join(root, 'pristine');
const SPACES = { s: 'entry spans', t: 'tiles', d: 'dedup', c: 'checkpoints' } as const;
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

const runFsck = (dir: string) => fsckDataDir(dir, verifier);

/** The entry file offset of every entry, and the file's end, from the span rows. */
function entryOffsets(rows: Map<string, Uint8Array>): number[] {
  const offsets: number[] = [];
  for (const [keyHex, value] of rows) {
    const key = Buffer.from(keyHex, 'hex');
    if (key[0] !== 0x73) continue;
    const span = decodeSpan(readUint64Key(key.subarray(1)), value);
    let at = span.offset;
    for (const n of span.lengths) {
      offsets.push(at);
      at += n;
    }
    offsets.push(at);
  }
  return [...new Set(offsets)].sort((a, b) => a - b);
}

const entryFile = (dir: string) => join(dir, 'db', 'entries');
const tileFile = (dir: string) => join(dir, 'db', 'tiles-0');
/** fsck of a copy of the pristine data dir in which one bit of a file (`bytes`, as it was) is flipped. */
async function fsckFlipped(name: string, file: (dir: string) => string, bytes: Buffer, bit: number) {
  const dir = join(root, name);
  cpSync(pristine, dir, { recursive: true });
  const flipped = Buffer.from(bytes);
  flipped[bit >> 3]! ^= 1 << (bit & 7);
  writeFileSync(file(dir), flipped);
  try {
    return await runFsck(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A copy of the pristine data dir with its last byte of a file cut: open must refuse it; then fsck. */
async function fsckCut(name: string, file: (dir: string) => string) {
  const dir = join(root, name);
  cpSync(pristine, dir, { recursive: true });
  try {
    const bytes = readFileSync(file(dir));
    writeFileSync(file(dir), bytes.subarray(0, bytes.length - 1));
    await expect(new LevelStore(join(dir, 'db')).open(verifier.name)).rejects.toMatchObject({
      code: 'CORRUPT',
    });
    return await runFsck(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const bin = new URL('../../bin/vellum.js', import.meta.url).pathname;
const cli = (args: string[]) =>
  new Promise<{ code: number | string; stdout: string }>((resolve) =>
    execFile('node', [bin, ...args], (err, stdout) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? err.signal ?? 99) : 0, stdout }),
    ),
  );

describe('tamper detection', () => {
  it('the pristine data dir passes', async () => {
    const r = await runFsck(pristine);
    expect(r).toMatchObject({ ok: true, size: 600n, entries: 600n });
    expect(r.problems).toEqual([]);
  });

  it('every flipped bit in the entry file is caught and names the entry', async () => {
    const offsets = entryOffsets(await records(pristine));
    expect(offsets).toHaveLength(601);
    const bytes = readFileSync(entryFile(pristine));
    expect(bytes.length).toBe(offsets[600]);
    let trial = 0;
    await fc.assert(
      fc.asyncProperty(fc.nat(bytes.length * 8 - 1), async (bit) => {
        const r = await fsckFlipped(`entry-flip-${trial++}`, entryFile, bytes, bit);
        let index = 0;
        while (offsets[index + 1]! <= bit >> 3) index++;
        expect(r.ok).toBe(false);
        expect(r.problems[0]).toMatchObject({ index: BigInt(index) });
      }),
      { numRuns: 25 },
    );
  });

  it('a cut entry file is refused at open, and fsck says acknowledged entries are missing', async () => {
    const r = await fsckCut('cut', entryFile);
    expect(r.ok).toBe(false);
    expect(r.problems[0]!.message).toMatch(/acknowledged entries are missing/);
  });

  it('every flipped bit in a tile file is caught and names the tile', async () => {
    const bytes = readFileSync(tileFile(pristine));
    expect(bytes.length).toBe(2 * 8192); // 600 entries: full level-0 tiles 0 and 1
    let trial = 0;
    await fc.assert(
      fc.asyncProperty(fc.nat(bytes.length * 8 - 1), async (bit) => {
        const r = await fsckFlipped(`tile-flip-${trial++}`, tileFile, bytes, bit);
        const index = BigInt(bit >> 16); // 8 KiB, 65,536 bits, per tile
        expect(r.ok).toBe(false);
        expect(r.problems[0]).toMatchObject({
          kind: 'tile',
          tile: formatTilePath({ level: 0, index }, index, 256),
        });
      }),
      { numRuns: 25 },
    );
  });

  it('a cut tile file is refused at open, and fsck says acknowledged tiles are missing', async () => {
    const r = await fsckCut('cut-tiles', tileFile);
    expect(r.ok).toBe(false);
    expect(r.problems[0]).toMatchObject({
      kind: 'store',
      message: expect.stringMatching(/acknowledged tiles are missing/),
    });
  });

  it('every flipped bit in a stored span, tile, checkpoint or dedup row is caught and named', async () => {
    const all = [...(await records(pristine)).entries()].filter(([k]) =>
      'stdc'.includes(String.fromCharCode(Number.parseInt(k.slice(0, 2), 16))),
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
        // A span's flip moves entry boundaries: reported as the entry it first garbles, or
        // as a store that cannot be read or opened.
        if (space === 's') expect(['entry', 'dedup', 'store']).toContain(first.kind);
        if (space === 'd') expect(first).toMatchObject({ kind: 'dedup' });
        if (space === 'c')
          expect(r.problems).toContainEqual(
            expect.objectContaining({ kind: 'checkpoint', size: readUint64Key(rest) }),
          );
        if (space === 't') {
          const { tile, width } = tileOfKey(rest)!;
          expect(first).toMatchObject({ kind: 'tile', tile: formatTilePath(tile, tile.index, width) });
        }
      }),
      { numRuns: 40 },
    );
  });

  it('raw bit flips in the LevelDB files are caught, or leave the stored data unchanged', async () => {
    const before = await records(pristine);
    let detected = 0;
    let harmless = 0;
    for (let trial = 0; trial < 20; trial++) {
      const dir = join(root, `raw-${trial}`);
      cpSync(pristine, dir, { recursive: true });
      const files = readdirSync(join(dir, 'db')).filter((f) => /\.(ldb|log)$/.test(f));
      const file = join(dir, 'db', files[trial % files.length]!);
      const bytes = readFileSync(file);
      const at = Math.floor(Math.random() * bytes.length);
      bytes[at]! ^= 1 << (trial % 8);
      writeFileSync(file, bytes);
      // In a child process: LevelDB does not verify block checksums on reads, and a garbled
      // key length can trip one of its assertions, which aborts the process. That, an error
      // (exit 2) and a failed check (exit 1) all mean the damage was not served as data.
      const r = await cli(['fsck', '--data', dir, '--json']);
      if (r.code !== 0) detected++;
      else {
        const after = await records(dir);
        expect(after).toEqual(before);
        harmless++;
      }
      rmSync(dir, { recursive: true, force: true });
    }
    expect(detected + harmless).toBe(20);
    expect(detected).toBeGreaterThan(0);
  });

  it('vellum fsck exits 1 and names the damage', async () => {
    const dir = join(root, 'cli');
    cpSync(pristine, dir, { recursive: true });
    const offsets = entryOffsets(await records(dir));
    const bytes = readFileSync(entryFile(dir));
    bytes.fill(0x2a, offsets[300], offsets[301]); // entry 300, same length
    writeFileSync(entryFile(dir), bytes);
    const bad = await cli(['fsck', '--data', dir]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('entry 300');
    expect((await cli(['fsck', '--data', pristine, '--json'])).code).toBe(0);
  });
});

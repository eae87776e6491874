// LevelDB layout details the conformance suite cannot see: the dedup value's width, rows
// written by earlier builds, the entry file's tail after a crash, and schema 1 stores.
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmdirSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { open as openFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Level } from 'level';
import { afterEach, describe, expect, it } from 'vitest';
import { fsckDataDir } from '../../src/fsck.js';
import { defaultHasher as H, verifyInclusion } from '../../src/merkle/index.js';
import { tileWidth } from '../../src/merkle/tiles.js';
import { formatReceipt, openCheckpoint, verifyReceipt } from '../../src/note/index.js';
import {
  minimalUint,
  readUint64Key,
  readUintBE,
  tileKey,
  tileOfKey,
  uint64Key,
} from '../../src/storage/keys.js';
import { LevelStore } from '../../src/storage/level-store.js';
import type { IntegrationBatch } from '../../src/storage/log-store.js';
import { decodeSpan } from '../../src/storage/spans.js';
import { openLog, verifier } from '../helpers/log.js';
import { utf8 } from '../helpers/vectors.js';

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

describe('dedup values', () => {
  it('minimalUint keeps the fewest big-endian bytes, and readUintBE reads them back', () => {
    fc.assert(
      fc.property(u64, fc.nat(16), (n, at) => {
        const buf = new Uint8Array(at + 8);
        new DataView(buf.buffer).setBigUint64(at, n);
        const b = minimalUint(buf, at);
        expect(readUintBE(b)).toBe(n);
        expect(b.length).toBe(Math.max(1, Math.ceil(n.toString(2).length / 8)));
        if (b.length > 1) expect(b[0]).not.toBe(0);
      }),
    );
  });

  it('readUintBE reads 8-byte values with leading zeros (rows of earlier builds)', () => {
    fc.assert(
      fc.property(u64, (n) => {
        const b = new Uint8Array(8);
        new DataView(b.buffer).setBigUint64(0, n);
        expect(readUintBE(b)).toBe(n);
      }),
    );
  });

  it('readUintBE refuses empty and over-long values', () => {
    expect(readUintBE(new Uint8Array(0))).toBeUndefined();
    expect(readUintBE(new Uint8Array(9))).toBeUndefined();
  });
});

describe('tile keys', () => {
  it('tileOfKey reads back the tile and width of every tileKey', () => {
    const tileAndWidth = fc
      .record({ level: fc.integer({ min: 0, max: 7 }), index: u64, width: fc.integer({ min: 1, max: 256 }) })
      // Keys hold the leaf index a tile ends at: it must fit in 64 bits.
      .filter((t) => (t.index * 256n + BigInt(t.width)) << BigInt(8 * t.level) < 1n << 64n);
    fc.assert(
      fc.property(tileAndWidth, ({ level, index, width }) => {
        expect(tileOfKey(tileKey({ level, index }, width))).toEqual({ tile: { level, index }, width });
      }),
    );
  });

  it('tileOfKey refuses keys that name no tile', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 12 }), (key) => {
        const named = tileOfKey(key);
        if (named !== undefined) expect(tileKey(named.tile, named.width)).toEqual(key);
      }),
    );
    expect(tileOfKey(new Uint8Array(9))).toBeUndefined(); // ends at leaf 0
    expect(tileOfKey(new Uint8Array([0, 0, 0, 0, 0, 0, 1, 1, 1]))).toBeUndefined(); // not a level-1 node
    expect(tileOfKey(new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0, 8]))).toBeUndefined(); // no level 8
  });
});

describe('LevelStore dedup rows on disk', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  const leafHash = (n: number) => new Uint8Array(32).fill(n);
  const dedupKey = (h: Uint8Array) => new Uint8Array([0x64, ...h]);

  it('writes the index in as few bytes as hold it and still reads 8-byte rows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vellum-level-'));
    dirs.push(dir);
    const store = new LevelStore(dir, { durable: false });
    await store.open('o');
    const entries = Array.from({ length: 300 }, (_, i) => new Uint8Array([i & 255, i >> 8]));
    const leafHashes = entries.map((_, i) => {
      const h = new Uint8Array(32);
      new DataView(h.buffer).setUint32(0, i + 1);
      return h;
    });
    await store.commit({
      size1: 0n,
      size2: 300n,
      entries,
      leafHashes,
      tiles: [
        { level: 0, index: 0n, width: 256, hashes: new Uint8Array(256 * 32) },
        { level: 0, index: 1n, width: 44, hashes: new Uint8Array(44 * 32) },
      ],
      checkpoint: new Uint8Array([1]),
    });
    await store.close();
    await withRaw(dir, async (db) => {
      expect([...(await db.get(dedupKey(leafHashes[5]!)))!]).toEqual([5]);
      expect([...(await db.get(dedupKey(leafHashes[299]!)))!]).toEqual([1, 43]);
      // A row as an earlier build wrote it, and a damaged one.
      await db.put(dedupKey(leafHash(0xaa)), new Uint8Array([0, 0, 0, 0, 0, 0, 1, 2]));
      await db.put(dedupKey(leafHash(0xbb)), new Uint8Array(9));
    });
    // Without the dedup filter: it holds the tree's leaf hashes, and these two rows have none.
    const reopened = new LevelStore(dir, { durable: false, dedupFilterBits: 0 });
    await reopened.open('o');
    expect(
      await reopened.findLeafHashes([leafHashes[0]!, leafHashes[299]!, leafHash(0xaa), leafHash(1)]),
    ).toEqual([0n, 299n, 258n, undefined]);
    await expect(reopened.findLeafHashes([leafHash(0xbb)])).rejects.toMatchObject({ code: 'CORRUPT' });
    await reopened.close();
  });
});

async function withRaw(path: string, f: (db: Level<Uint8Array, Uint8Array>) => Promise<void>) {
  const db = new Level<Uint8Array, Uint8Array>(path, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  try {
    await f(db);
  } finally {
    await db.close();
  }
}

const prefixed = (space: string, rest: Uint8Array) => new Uint8Array([space.charCodeAt(0), ...rest]);

describe('the entry file', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  /** A data dir (`<dir>/db`) holding `n` entries appended in batches of `batch`. */
  async function filled(n: number, batch: number) {
    const dir = mkdtempSync(join(tmpdir(), 'vellum-entries-'));
    dirs.push(dir);
    const log = await openLog(new LevelStore(join(dir, 'db')), { maxBatch: batch });
    const entries = Array.from({ length: n }, (_, i) => utf8(`entry ${i} ${'x'.repeat(i % 37)}`));
    for (let at = 0; at < n; at += 250)
      await Promise.all(entries.slice(at, at + 250).map((e) => log.append(e)));
    await log.close();
    return { dir, db: join(dir, 'db'), entries };
  }

  async function readAll(db: string, size: number) {
    const store = new LevelStore(db);
    await store.open(verifier.name);
    try {
      return await store.readEntries(0n, BigInt(size));
    } finally {
      await store.close();
    }
  }

  it('holds every entry end to end, one span row per batch, no entry rows in LevelDB', async () => {
    const { db, entries } = await filled(600, 97);
    const bytes = readFileSync(join(db, 'entries'));
    expect(Buffer.compare(bytes, Buffer.concat(entries))).toBe(0);
    await withRaw(db, async (raw) => {
      const spans = await raw.iterator({ gt: new Uint8Array([0x73]), lt: new Uint8Array([0x74]) }).all();
      expect(spans.length).toBeGreaterThanOrEqual(Math.ceil(600 / 97));
      const covered = spans.reduce((n, [k, v]) => {
        expect(readUint64Key(k.subarray(1))).toBe(BigInt(n));
        return n + decodeSpan(0n, v).lengths.length;
      }, 0);
      expect(covered).toBe(600);
      expect(await raw.keys({ gt: new Uint8Array([0x65]), lt: new Uint8Array([0x66]) }).all()).toEqual([]);
    });
    expect((await readAll(db, 600)).map((e) => Buffer.from(e).toString())).toEqual(
      entries.map((e) => Buffer.from(e).toString()),
    );
  });

  it('bytes an uncommitted batch left past the end are overwritten by the next batch', async () => {
    const { dir, db, entries } = await filled(300, 64);
    // A crash after the batch's bytes were written and synced, before its LevelDB commit.
    appendFileSync(join(db, 'entries'), new Uint8Array(5000).fill(0xee));
    const log = await openLog(new LevelStore(db));
    const more = Array.from({ length: 40 }, (_, i) => utf8(`after the crash ${i}`));
    await Promise.all(more.map((e) => log.append(e)));
    expect((await log.getEntries(0n, 340n)).map((e) => Buffer.from(e).toString())).toEqual(
      [...entries, ...more].map((e) => Buffer.from(e).toString()),
    );
    await log.close();
    expect((await fsckDataDir(dir, verifier)).ok).toBe(true);
  });

  it('a schema 1 store (entries as LevelDB rows) is moved to the entry file at open, even after an interrupted move', async () => {
    const { dir, db, entries } = await filled(700, 128);
    // Turn the store back into schema 1: entry rows, no spans, no entry file. Then play an
    // interrupted move: one span row and half a file written, the schema still 1.
    const spanRows: [Uint8Array, Uint8Array][] = [];
    await withRaw(db, async (raw) => {
      spanRows.push(
        ...(await raw.iterator({ gt: new Uint8Array([0x73]), lt: new Uint8Array([0x74]) }).all()),
      );
      const b = raw.batch();
      for (const [k] of spanRows) b.del(k);
      for (const [i, e] of entries.entries()) b.put(prefixed('e', uint64Key(BigInt(i))), e);
      b.put(prefixed('m', utf8('schema')), utf8('1'));
      b.put(spanRows[0]![0], spanRows[0]![1]);
      await b.write();
    });
    const file = join(db, 'entries');
    const bytes = readFileSync(file);
    writeFileSync(file, bytes.subarray(0, bytes.length >> 1));

    const moved = await readAll(db, 700);
    expect(moved.map((e) => Buffer.from(e).toString())).toEqual(
      entries.map((e) => Buffer.from(e).toString()),
    );
    expect(Buffer.compare(readFileSync(file), bytes)).toBe(0);
    await withRaw(db, async (raw) => {
      expect(Buffer.from((await raw.get(prefixed('m', utf8('schema'))))!).toString()).toBe('3');
      expect(await raw.keys({ gt: new Uint8Array([0x65]), lt: new Uint8Array([0x66]) }).all()).toEqual([]);
      // Legacy rows left by a move that flipped the schema and stopped before clearing them.
      await raw.put(prefixed('e', uint64Key(3n)), entries[3]!);
    });
    expect((await fsckDataDir(dir, verifier)).ok).toBe(true);
    await withRaw(db, async (raw) => {
      expect(await raw.keys({ gt: new Uint8Array([0x65]), lt: new Uint8Array([0x66]) }).all()).toEqual([]);
    });
  });

  it('a store with no entry file but committed entries refuses to open, and releases LevelDB', async () => {
    const { db } = await filled(10, 4);
    unlinkSync(join(db, 'entries'));
    await expect(new LevelStore(db).open(verifier.name)).rejects.toMatchObject({ code: 'CORRUPT' });
    // The failed open let go of LevelDB's lock: a raw handle opens.
    await withRaw(db, async () => {});
    expect(existsSync(join(db, 'entries'))).toBe(true); // created empty, never cut
  });
});

describe('the tile files', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  async function filled(n: number) {
    const dir = mkdtempSync(join(tmpdir(), 'vellum-tiles-'));
    dirs.push(dir);
    const log = await openLog(new LevelStore(join(dir, 'db')), { maxBatch: 97 });
    for (let at = 0; at < n; at += 250)
      await Promise.all(
        Array.from({ length: Math.min(250, n - at) }, (_, i) => log.append(utf8(`e${at + i}`))),
      );
    const root = log.latestCheckpoint().checkpoint.rootHash;
    await log.close();
    return { dir, db: join(dir, 'db'), root };
  }

  const tileRows = (raw: Level<Uint8Array, Uint8Array>) =>
    raw.iterator({ gt: new Uint8Array([0x74]), lt: new Uint8Array([0x75]) }).all();

  it('hold every full tile at 8 KiB per tile; LevelDB keeps only the partial ones', async () => {
    const { db } = await filled(700);
    expect(readFileSync(join(db, 'tiles-0')).length).toBe(2 * 8192);
    const store = new LevelStore(db);
    await store.open(verifier.name);
    const full = await store.readTile({ level: 0, index: 1n }, 256);
    expect(Buffer.compare(full!, readFileSync(join(db, 'tiles-0')).subarray(8192))).toBe(0);
    expect(await store.readTile({ level: 0, index: 2n }, 256)).toBeUndefined(); // not full yet
    await store.close();
    await withRaw(db, async (raw) => {
      const names = (await tileRows(raw)).map(([k]) => tileOfKey(k.subarray(1)));
      // In key order: by the leaf index each tile ends at (512, then 700).
      expect(names).toEqual([
        { tile: { level: 1, index: 0n }, width: 2 },
        { tile: { level: 0, index: 2n }, width: 700 - 512 },
      ]);
    });
  });

  it('a schema 2 store (full tiles as LevelDB rows) is moved to the tile files at open, even after an interrupted move', async () => {
    const { dir, db, root } = await filled(700);
    const file = join(db, 'tiles-0');
    const bytes = readFileSync(file);
    // Back to schema 2: the full tiles as rows, the file cut short and then overwritten in
    // part with garbage, as a move interrupted before its schema flip leaves it.
    await withRaw(db, async (raw) => {
      const b = raw.batch();
      for (const index of [0n, 1n]) {
        const at = Number(index) * 8192;
        b.put(prefixed('t', tileKey({ level: 0, index }, 256)), bytes.subarray(at, at + 8192));
      }
      await b.put(prefixed('m', utf8('schema')), utf8('2')).write();
    });
    writeFileSync(file, new Uint8Array(9000).fill(0xee));
    const log = await openLog(new LevelStore(db));
    expect(Buffer.from(log.latestCheckpoint().checkpoint.rootHash)).toEqual(Buffer.from(root));
    await log.close();
    expect(Buffer.compare(readFileSync(file).subarray(0, bytes.length), bytes)).toBe(0);
    await withRaw(db, async (raw) => {
      expect(Buffer.from((await raw.get(prefixed('m', utf8('schema'))))!).toString()).toBe('3');
      expect((await tileRows(raw)).map(([k]) => tileOfKey(k.subarray(1))?.width)).toEqual([2, 188]);
    });
    expect((await fsckDataDir(dir, verifier)).ok).toBe(true);
  });

  it('after a failed commit, the tiles committed before it are read and none of its own', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vellum-tiles-'));
    dirs.push(dir);
    /** Entries size1 … size2−1 (one byte each) and the full tiles they complete, painted `fill`. */
    const batch = (size1: bigint, size2: bigint, fill: number): IntegrationBatch => {
      const n = Number(size2 - size1);
      const tiles = [];
      for (let level = 0; level < 2; level++) {
        const shift = BigInt(8 * (level + 1));
        for (let index = size1 >> shift; index < size2 >> shift; index++)
          tiles.push({ level, index, width: 256, hashes: new Uint8Array(8192).fill(fill + level) });
      }
      return {
        size1,
        size2,
        entries: Array.from({ length: n }, () => new Uint8Array([fill])),
        leafHashes: Array.from({ length: n }, (_, i) => {
          const h = new Uint8Array(32);
          new DataView(h.buffer).setBigUint64(0, size1 + BigInt(i));
          return h;
        }),
        tiles,
        checkpoint: utf8(`checkpoint ${size2}`),
      };
    };
    const store = new LevelStore(dir);
    await store.open('o');
    await store.commit(batch(0n, 256n, 1));
    // The batch that completes the first level-1 tile cannot create its file: the commit fails
    // after its level-0 tiles were written to their file.
    mkdirSync(join(dir, 'tiles-1'));
    const second = batch(256n, 65536n, 7);
    await expect(store.commit(second)).rejects.toMatchObject({ code: 'STORAGE' });
    expect(readFileSync(join(dir, 'tiles-0')).length).toBe(256 * 8192);
    expect((await store.readTile({ level: 0, index: 0n }, 256))![0]).toBe(1);
    expect(await store.readTile({ level: 0, index: 1n }, 256)).toBeUndefined();
    rmdirSync(join(dir, 'tiles-1'));
    await store.commit(second);
    expect((await store.readTile({ level: 0, index: 255n }, 256))![0]).toBe(7);
    expect((await store.readTile({ level: 1, index: 0n }, 256))![0]).toBe(8);
    await store.close();
  });

  it('a LevelDB write that lands and then fails: the log serves what landed, its full tile included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vellum-landed-'));
    dirs.push(dir);
    // Fault injection below LevelStore: the next chained batch write reaches LevelDB, then
    // reports an error (as a write whose sync step failed after the data was logged might).
    const probe = new Level<Uint8Array, Uint8Array>(join(dir, 'probe'));
    await probe.open();
    const chained = probe.batch();
    const proto = Object.getPrototypeOf(chained) as { write: (...a: unknown[]) => Promise<void> };
    await chained.close();
    await probe.close();
    const write = proto.write;
    let armed = false;
    proto.write = function (this: unknown, ...args: unknown[]) {
      const landed = write.apply(this, args);
      if (!armed) return landed;
      armed = false;
      return landed.then(() => {
        throw new Error('injected: the batch was written, then the write failed');
      });
    };
    try {
      const log = await openLog(new LevelStore(join(dir, 'db')), { maxDelayMs: 0, maxBatch: 100 });
      const entry = (i: number) => utf8(`landed ${i}`);
      await Promise.all(Array.from({ length: 200 }, (_, i) => log.append(entry(i))));
      // The next batch (entries 200 … 259: under 64, so one batch) completes level-0 tile 0
      // and lands, but fails.
      armed = true;
      const settled = await Promise.allSettled(
        Array.from({ length: 60 }, (_, i) => log.append(entry(200 + i))),
      );
      for (const r of settled) expect(r).toMatchObject({ status: 'rejected', reason: { code: 'STORAGE' } });
      expect(log.size).toBe(260n); // re-read from the store: what landed is served
      const { checkpoint } = openCheckpoint(log.latestCheckpoint().note, [verifier]);
      // Tile 0 became full in the failed batch: it is read from its file (it never reached the
      // cache), under the size LevelDB's checkpoint proves.
      const p = await log.inclusionProof(10n, 260n);
      verifyInclusion({ ...p, rootHash: checkpoint.rootHash }, H);
      expect(p.leafHash).toEqual(H.leafHash(entry(10)));
      // Retrying gets the landed entries' original places, then new ones.
      const retried = await Promise.all(Array.from({ length: 150 }, (_, i) => log.append(entry(200 + i))));
      retried.forEach((r, i) => {
        expect(r).toMatchObject({ index: BigInt(200 + i), duplicate: i < 60 });
        verifyReceipt(formatReceipt(r), H.leafHash(entry(200 + i)), [verifier]);
      });
      await log.close();
      const reopened = await openLog(new LevelStore(join(dir, 'db')));
      expect(reopened.size).toBe(350n);
      await reopened.close();
      expect(await fsckDataDir(dir, verifier)).toMatchObject({ ok: true, size: 350n });
    } finally {
      delete (proto as { write?: unknown }).write;
    }
  });

  it('a tile file shorter than its committed tiles refuses to open; bytes past them are overwritten', async () => {
    const { dir, db } = await filled(700);
    const file = join(db, 'tiles-0');
    const bytes = readFileSync(file);
    // A crash after a batch's tiles were written, before its LevelDB commit: a tail.
    appendFileSync(file, new Uint8Array(3 * 8192).fill(0xee));
    const log = await openLog(new LevelStore(db), { maxBatch: 97 });
    await Promise.all(Array.from({ length: 400 }, (_, i) => log.append(utf8(`after ${i}`))));
    await log.close();
    const report = await fsckDataDir(dir, verifier);
    expect(report.ok).toBe(true);
    expect(report.tiles).toBeGreaterThanOrEqual(4);
    // Cut into the committed tiles: refused, and LevelDB released.
    writeFileSync(file, bytes.subarray(0, 8192 + 100));
    await expect(new LevelStore(db).open(verifier.name)).rejects.toMatchObject({
      code: 'CORRUPT',
      message: expect.stringContaining('level-0 tile file'),
    });
    await withRaw(db, async () => {});
  });
});

describe('staged writes', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  /** Stand-in hashes of a level-0 tile as a batch painted `fill` computes it: the store never reads them. */
  const tileBytes = (index: bigint, width: number, fill: number) =>
    new Uint8Array(width * 32).fill((fill + Number(index) * 7) & 255);

  /** A batch of `entries` from size1: its dedup rows, the level-0 tiles it fills or widens, a checkpoint. */
  function batchOf(size1: bigint, entries: Uint8Array[], fill: number): IntegrationBatch {
    const size2 = size1 + BigInt(entries.length);
    const tiles = [];
    for (let index = size1 >> 8n; index <= (size2 - 1n) >> 8n; index++) {
      const width = tileWidth({ level: 0, index }, size2);
      tiles.push({ level: 0, index, width, hashes: tileBytes(index, width, fill) });
    }
    return {
      size1,
      size2,
      entries,
      leafHashes: entries.map((_, i) => {
        const h = new Uint8Array(32);
        new DataView(h.buffer).setBigUint64(0, size1 + BigInt(i));
        return h;
      }),
      tiles,
      checkpoint: utf8(`checkpoint ${size2}`),
    };
  }

  // Each step: a batch, and what the caller staged for it beforehand: the batch itself,
  // another batch at the same size (one that failed before reaching the store was prepared
  // there), a batch at a size off the chain, or nothing. Commits run pipelined: the next batch
  // is staged before the previous commit has settled. Batches of up to 300 entries fill
  // level-0 tiles, so the tile files are staged too.
  const step = fc.record({
    lengths: fc.array(fc.nat(20), { minLength: 1, maxLength: 300 }),
    staged: fc.constantFrom('same', 'other', 'off-chain', 'none'),
    fill: fc.integer({ min: 1, max: 255 }),
  });

  it('a commit keeps exactly its own entries and tiles, whatever was staged before it', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
        const dir = mkdtempSync(join(tmpdir(), 'vellum-stage-'));
        dirs.push(dir);
        const store = new LevelStore(dir);
        await store.open('o');
        const committed: Uint8Array[] = [];
        const tiles = new Map<bigint, Uint8Array>();
        let size = 0n;
        let previous: Promise<void> = Promise.resolve();
        for (const [k, st] of steps.entries()) {
          const entries = st.lengths.map((n, i) => new Uint8Array(n).fill((st.fill + i + k) & 255));
          const batch = batchOf(size, entries, st.fill);
          if (st.staged === 'same') store.stage(batch);
          if (st.staged === 'other') {
            const other = entries.map((e) => new Uint8Array(e.length + 1).fill(0xee));
            store.stage(batchOf(size, other, st.fill ^ 0x55));
          }
          if (st.staged === 'off-chain') store.stage(batchOf(size + 1n, [new Uint8Array(7).fill(0xdd)], 0));
          const commit = previous.then(() => store.commit(batch));
          previous = commit;
          committed.push(...entries);
          for (const t of batch.tiles) tiles.set(t.index, t.hashes);
          size = batch.size2;
        }
        await previous;
        const hex = (bs: readonly Uint8Array[]) => bs.map((e) => Buffer.from(e).toString('hex'));
        const check = async (s: LevelStore) => {
          expect(hex(await s.readEntries(0n, size))).toEqual(hex(committed));
          for (const [index, hashes] of tiles) {
            const width = tileWidth({ level: 0, index }, size);
            expect(hex([(await s.readTile({ level: 0, index }, width))!])).toEqual(hex([hashes]));
          }
        };
        await check(store);
        await store.close();
        // A reopened store reads the same, and each file's committed prefix holds the same bytes.
        const reopened = new LevelStore(dir);
        await reopened.open('o');
        await check(reopened);
        await reopened.close();
        const all = Buffer.concat(committed);
        expect(Buffer.compare(readFileSync(join(dir, 'entries')).subarray(0, all.length), all)).toBe(0);
        const full = [...tiles.keys()].filter((i) => tileWidth({ level: 0, index: i }, size) === 256);
        if (full.length > 0) {
          const want = Buffer.concat(full.sort((a, b) => Number(a - b)).map((i) => tiles.get(i)!));
          const got = readFileSync(join(dir, 'tiles-0')).subarray(0, want.length);
          expect(Buffer.compare(got, want)).toBe(0);
        }
      }),
      { numRuns: 40 },
    );
  });
});

describe('the dedup filter', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  const entryOf = (tag: string, i: number) => utf8(`${tag} ${i}`);

  /** A store of `n` entries, closed: enough dedup rows that the filter takes several steps. */
  async function filledDb(n: number): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), 'vellum-filter-'));
    dirs.push(dir);
    const db = join(dir, 'db');
    const log = await openLog(new LevelStore(db, { durable: false }), { maxBatch: 1024 });
    for (let at = 0; at < n; at += 5000)
      await Promise.all(Array.from({ length: 5000 }, (_, i) => log.append(entryOf('old', at + i))));
    await log.close();
    return db;
  }

  /**
   * Holds every FileHandle read whose length `hold` picks until the returned function is
   * called (which also puts FileHandle.read back).
   */
  async function holdReads(hold: (length: number) => boolean): Promise<() => void> {
    const probe = await openFile(join(tmpdir()), 'r');
    const proto = Object.getPrototypeOf(probe) as { read: (...a: unknown[]) => Promise<unknown> };
    await probe.close();
    const original = proto.read;
    let open!: () => void;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    proto.read = async function (this: unknown, ...a: unknown[]) {
      if (hold(a[2] as number)) await gate;
      return original.apply(this, a);
    };
    return () => {
      proto.read = original;
      open();
    };
  }

  /** Counts the keys LevelDB's getMany is asked for while `f` runs. */
  async function countLookups(f: () => Promise<void>): Promise<number> {
    let owner: { getMany: (...a: unknown[]) => unknown } = Level.prototype as never;
    while (!Object.hasOwn(owner, 'getMany')) owner = Object.getPrototypeOf(owner);
    const original = owner.getMany;
    let keys = 0;
    owner.getMany = function (this: unknown, ...a: unknown[]) {
      keys += (a[0] as unknown[]).length;
      return original.apply(this, a);
    };
    try {
      await f();
    } finally {
      owner.getMany = original;
    }
    return keys;
  }

  it('finds every entry while it is built and after, those appended meanwhile too', async () => {
    const db = await filledDb(20_000);
    const store = new LevelStore(db, { durable: false });
    // The filter reads the level-0 tile file many tiles at a time (the log reads one): hold
    // those reads until the appends below are answered, so they meet an unbuilt filter.
    const release = await holdReads((length) => length > 8192);
    const log = await openLog(store, { maxBatch: 512 });
    let during: Awaited<ReturnType<typeof log.append>>[];
    try {
      // Not made at open, so opening costs nothing that grows with the log.
      expect(store.dedupFilter).toBeUndefined();
      // While the filter is built: retries of old entries and new entries, in many batches.
      during = await Promise.all(
        Array.from({ length: 3000 }, (_, i) =>
          log.append(i % 2 === 0 ? entryOf('old', i * 6) : entryOf('new', i)),
        ),
      );
      expect(store.dedupFilter?.ready).toBe(false);
    } finally {
      release();
    }
    for (const [i, r] of during.entries()) expect(r.duplicate).toBe(i % 2 === 0);
    for (const [i, r] of during.entries()) if (i % 2 === 0) expect(r.index).toBe(BigInt(i * 6));
    expect(await store.dedupFilterBuilt()).toBe(true);
    expect(store.dedupFilter).toMatchObject({ ready: true, entries: 21_500 });
    // Built: every old and every new entry is a duplicate, at the index it was first given.
    const again = await Promise.all([
      ...Array.from({ length: 20_000 }, (_, i) => log.append(entryOf('old', i))),
      ...during.map((_, i) => log.append(i % 2 === 0 ? entryOf('old', i * 6) : entryOf('new', i))),
    ]);
    for (const r of again) expect(r.duplicate).toBe(true);
    for (let i = 0; i < 20_000; i++) expect(again[i]!.index).toBe(BigInt(i));
    for (const [i, r] of during.entries()) expect(again[20_000 + i]!.index).toBe(r.index);
    expect(log.size).toBe(21_500n);
    await log.close();
  });

  it('once built, asks LevelDB only for leaf hashes it cannot rule out', async () => {
    const db = await filledDb(10_000);
    const fresh = Array.from({ length: 2000 }, (_, i) => H.leafHash(entryOf('fresh', i)));
    const old = Array.from({ length: 100 }, (_, i) => H.leafHash(entryOf('old', i * 97)));
    for (const bits of [10, 0]) {
      const store = new LevelStore(db, { durable: false, dedupFilterBits: bits });
      await store.open(verifier.name);
      expect(await store.dedupFilterBuilt()).toBe(bits > 0);
      let found: (bigint | undefined)[] = [];
      const asked = await countLookups(async () => {
        found = await store.findLeafHashes([...fresh, ...old]);
      });
      expect(found).toEqual([...fresh.map(() => undefined), ...old.map((_, i) => BigInt(i * 97))]);
      if (bits > 0) {
        // ~1% false positives of the 2,000 fresh ones, and every old one.
        expect(asked).toBeGreaterThanOrEqual(100);
        expect(asked).toBeLessThan(100 + 60);
        expect(store.dedupFilter).toMatchObject({ ready: true, entries: 10_000 });
      } else {
        expect(asked).toBe(2100);
        expect(store.dedupFilter).toBeUndefined();
      }
      await store.close();
    }
  });

  it('a store closed while its filter is built closes, and reports the filter unbuilt', async () => {
    const db = await filledDb(20_000);
    const release = await holdReads((length) => length > 8192);
    const store = new LevelStore(db, { durable: false });
    await store.open(verifier.name);
    const built = store.dedupFilterBuilt(); // starts the build; its first read is held
    const closed = store.close();
    release();
    await closed;
    expect(await built).toBe(false);
    expect(await store.dedupFilterBuilt()).toBe(false);
  });
});

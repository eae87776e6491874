import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { TransparencyLog } from '../../src/log/log.js';
import {
  CompactRange,
  defaultHasher as H,
  verifyConsistency,
  verifyInclusion,
} from '../../src/merkle/index.js';
import { formatReceipt, openCheckpoint, verifyReceipt } from '../../src/note/index.js';
import { ORIGIN, openLog, verifier } from '../helpers/log.js';
import { naiveRoot } from '../helpers/naive.js';
import { type StoreKind, storeKinds } from '../helpers/stores.js';
import { utf8 } from '../helpers/vectors.js';

const rootOf = (leafHashes: Uint8Array[], size: number) => naiveRoot(leafHashes.slice(0, size));

describe.each(storeKinds)('TransparencyLog on $name', (kind: StoreKind) => {
  let made: ReturnType<StoreKind['create']>;
  let log: TransparencyLog;
  afterEach(async () => {
    await log?.close().catch(() => {});
    made?.cleanup();
  });

  it('starts with a signed size-0 checkpoint', async () => {
    made = kind.create();
    log = await openLog(made.store);
    const { checkpoint } = openCheckpoint(log.latestCheckpoint().note, [verifier], { origin: ORIGIN });
    expect(checkpoint.size).toBe(0n);
    expect(checkpoint.rootHash).toEqual(H.emptyRoot());
  });

  it('answers each append with its index and a receipt that verifies offline', async () => {
    made = kind.create();
    log = await openLog(made.store);
    const r = await log.append(utf8('hello'));
    expect(r.index).toBe(0n);
    expect(r.duplicate).toBe(false);
    const { checkpoint } = verifyReceipt(formatReceipt(r), H.leafHash(utf8('hello')), [verifier], {
      origin: ORIGIN,
    });
    expect(checkpoint.size).toBe(1n);
  });

  it('many concurrent appends get distinct, dense indexes and verifying receipts', async () => {
    made = kind.create();
    log = await openLog(made.store, { maxBatch: 100 });
    const entries = Array.from({ length: 1500 }, (_, i) => utf8(`event ${i}`));
    const results = await Promise.all(entries.map((e) => log.append(e)));
    const indexes = results.map((r) => r.index).sort((a, b) => (a < b ? -1 : 1));
    expect(indexes).toEqual(entries.map((_, i) => BigInt(i)));
    for (const [i, r] of results.entries())
      verifyReceipt(formatReceipt(r), H.leafHash(entries[i]!), [verifier]);
    const leafHashes: Uint8Array[] = [];
    for (const [i, r] of results.entries()) leafHashes[Number(r.index)] = H.leafHash(entries[i]!);
    expect(log.latestCheckpoint().checkpoint.rootHash).toEqual(rootOf(leafHashes, 1500));
  });

  it('deduplicates: the same entry returns its original index and receipt', async () => {
    made = kind.create();
    log = await openLog(made.store);
    const [a, b] = await Promise.all([log.append(utf8('same')), log.append(utf8('same'))]);
    expect(a).toEqual(b);
    await Promise.all(Array.from({ length: 10 }, (_, i) => log.append(utf8(`other ${i}`))));
    const c = await log.append(utf8('same'));
    expect(c.index).toBe(a.index);
    expect(c.duplicate).toBe(true);
    expect(formatReceipt(c)).toBe(formatReceipt(a));
    expect(log.size).toBe(11n);
  });

  it('appendMany: groups and single appends, with repeats anywhere, agree with one append at a time', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.nat(60), { maxLength: 40 }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 1, max: 50 }),
        async (calls, maxBatch) => {
          const m = kind.create();
          const l = await openLog(m.store, { maxBatch, maxDelayMs: 0 });
          try {
            // Every call at once: some single appends, the rest groups.
            const answers = await Promise.all(
              calls.map((ns, c) =>
                c % 3 === 2 && ns.length === 1
                  ? l.append(utf8(`v${ns[0]}`)).then((r) => [r])
                  : l.appendMany(ns.map((n) => utf8(`v${n}`))),
              ),
            );
            const distinct = new Set(calls.flat());
            expect(l.size).toBe(BigInt(distinct.size));
            const indexOf = new Map<number, bigint>();
            for (const [c, ns] of calls.entries()) {
              expect(answers[c]!.length).toBe(ns.length);
              for (const [i, n] of ns.entries()) {
                const r = answers[c]![i]!;
                expect(r.index).toBe(indexOf.get(n) ?? r.index);
                indexOf.set(n, r.index);
                verifyReceipt(formatReceipt(r), H.leafHash(utf8(`v${n}`)), [verifier]);
              }
            }
            expect(new Set(indexOf.values()).size).toBe(distinct.size);
            // Afterwards every one is a duplicate of its first index.
            const again = await l.appendMany([...distinct].map((n) => utf8(`v${n}`)));
            for (const [i, n] of [...distinct].entries()) {
              expect(again[i]).toMatchObject({ index: indexOf.get(n), duplicate: true });
            }
          } finally {
            await l.close();
            m.cleanup();
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it('appendMany refuses a whole call with an entry over the limit, appending none of it', async () => {
    made = kind.create();
    log = await openLog(made.store, { maxEntryBytes: 8 });
    await expect(log.appendMany([utf8('ok'), utf8('far too long')])).rejects.toMatchObject({
      code: 'TOO_LARGE',
    });
    expect(await log.appendMany([])).toEqual([]);
    expect((await log.append(utf8('ok'))).index).toBe(0n);
    expect(log.size).toBe(1n);
  });

  it('serves inclusion and consistency proofs at every size, by index and by leaf hash', async () => {
    made = kind.create();
    log = await openLog(made.store, { maxBatch: 64, tileCacheSize: 2 });
    const n = 700; // past two full level-0 tiles, into a level-1 tile
    const leafHashes: Uint8Array[] = [];
    for (let done = 0; done < n; done += 100) {
      const rs = await Promise.all(Array.from({ length: 100 }, (_, i) => log.append(utf8(`e${done + i}`))));
      for (const [i, r] of rs.entries()) leafHashes[Number(r.index)] = H.leafHash(utf8(`e${done + i}`));
    }
    const pairs = fc.sample(
      fc
        .integer({ min: 1, max: n })
        .chain((size) => fc.tuple(fc.constant(size), fc.nat(size - 1), fc.integer({ min: 0, max: size }))),
      120,
    );
    for (const [size, index, size1] of pairs) {
      const p = await log.inclusionProof(BigInt(index), BigInt(size));
      expect(p.leafHash).toEqual(leafHashes[index]);
      verifyInclusion({ ...p, rootHash: rootOf(leafHashes, size) }, H);
      const c = await log.consistencyProof(BigInt(size1), BigInt(size));
      const root1 = rootOf(leafHashes, size1);
      verifyConsistency(
        { size1: BigInt(size1), size2: BigInt(size), root1, root2: rootOf(leafHashes, size), proof: c.proof },
        H,
      );
    }
    // Many at once: the same proofs, from memory at the latest size (cache of 2 tiles, so some
    // fall back to the store) and through the general path at an older one.
    const indexes = fc.sample(fc.nat(n - 1), 200).map(BigInt);
    for (const size of [BigInt(n), 513n]) {
      const some = indexes.filter((i) => i < size);
      const many = await log.inclusionProofs(some, size);
      expect(many).toEqual(await Promise.all(some.map((i) => log.inclusionProof(i, size))));
      for (const p of many) verifyInclusion({ ...p, rootHash: rootOf(leafHashes, Number(size)) }, H);
    }
    await expect(log.inclusionProofs([0n, BigInt(n)])).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
    const byHash = await log.inclusionProofByLeafHash(leafHashes[300]!);
    expect(byHash.index).toBe(300n);
    expect(byHash.size).toBe(BigInt(n));
    await expect(log.inclusionProofByLeafHash(leafHashes[300]!, 300n)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(log.inclusionProofByLeafHash(new Uint8Array(32))).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('reads entries in capped ranges', async () => {
    made = kind.create();
    log = await openLog(made.store, { maxEntriesPerRead: 10 });
    await Promise.all(Array.from({ length: 25 }, (_, i) => log.append(utf8(`r${i}`))));
    const got = await log.getEntries(5n, 100n);
    expect(got).toHaveLength(10);
    expect((await log.getEntries(20n, 30n)).length).toBe(5);
    const leaf = await log.inclusionProof(5n);
    expect(H.leafHash(got[0]!)).toEqual(leaf.leafHash);
  });

  it('rejects bad requests with stable codes and keeps serving', async () => {
    made = kind.create();
    log = await openLog(made.store, { maxEntryBytes: 100 });
    await log.append(utf8('a'));
    await expect(log.append(new Uint8Array(101))).rejects.toMatchObject({ code: 'TOO_LARGE' });
    await expect(log.inclusionProof(1n)).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
    await expect(log.inclusionProof(-1n)).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
    await expect(log.inclusionProof(0n, 2n)).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
    await expect(log.consistencyProof(2n, 1n)).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
    await expect(log.getEntries(1n, 2n)).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
    await expect(log.getEntries(0n, 0n)).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
    expect((await log.append(new Uint8Array(100))).index).toBe(1n);
    expect((await log.append(new Uint8Array(0))).index).toBe(2n);
  });

  it('reopens with the same checkpoint; proofs still verify; the tree keeps growing', async () => {
    made = kind.create();
    log = await openLog(made.store);
    const first = await Promise.all(Array.from({ length: 300 }, (_, i) => log.append(utf8(`x${i}`))));
    const before = log.latestCheckpoint();
    await log.close();
    log = await openLog(made.reopen());
    expect(log.latestCheckpoint().note).toBe(before.note);
    for (const r of first.slice(0, 20)) {
      const p = await log.inclusionProof(r.index);
      verifyInclusion({ ...p, rootHash: before.checkpoint.rootHash }, H);
    }
    const again = await log.append(utf8('x7'));
    expect(again.index).toBe(first[7]!.index);
    const more = await log.append(utf8('after reopen'));
    expect(more.index).toBe(300n);
    const c = await log.consistencyProof(300n);
    verifyConsistency(
      {
        size1: 300n,
        size2: 301n,
        root1: before.checkpoint.rootHash,
        root2: log.latestCheckpoint().checkpoint.rootHash,
        proof: c.proof,
      },
      H,
    );
  });

  it('pushes back when the pool is full, and still answers what it accepted', async () => {
    made = kind.create();
    log = await openLog(made.store, { maxPending: 50, maxBatch: 10, maxDelayMs: 5 });
    const settled = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) => log.append(utf8(`p${i}`))),
    );
    const refused = settled.filter((s) => s.status === 'rejected');
    expect(refused.length).toBeGreaterThan(0);
    for (const s of refused) expect((s as PromiseRejectedResult).reason).toMatchObject({ code: 'PUSHBACK' });
    const accepted = settled.filter((s) => s.status === 'fulfilled').length;
    expect(log.size).toBe(BigInt(accepted));
  });

  it('close() answers every accepted append, then refuses new ones', async () => {
    made = kind.create();
    log = await openLog(made.store, { maxDelayMs: 50 });
    const pending = Array.from({ length: 20 }, (_, i) => log.append(utf8(`c${i}`)));
    await log.close();
    expect((await Promise.all(pending)).length).toBe(20);
    await expect(log.append(utf8('late'))).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('the compact range of the log equals an independent rebuild', async () => {
    made = kind.create();
    log = await openLog(made.store, { maxBatch: 7 });
    const rs = await Promise.all(Array.from({ length: 60 }, (_, i) => log.append(utf8(`k${i}`))));
    const ordered = [...rs].sort((a, b) => (a.index < b.index ? -1 : 1));
    const range = new CompactRange(0n, [], H);
    for (const r of ordered) range.append(r.leafHash);
    expect(range.rootHash()).toEqual(log.latestCheckpoint().checkpoint.rootHash);
  });
});

describe('receipts from memory', () => {
  it('need no tile cache: every fresh path is on the right edge or in a tile its batch completed', async () => {
    const { MemoryStore } = await import('../../src/storage/memory-store.js');
    const { InclusionVerifier } = await import('../../src/merkle/index.js');
    const { nodeHasher } = await import('../../src/node-hasher.js');
    const log = await openLog(new MemoryStore(), { tileCacheSize: 0, hasher: nodeHasher, maxDelayMs: 0 });
    const verifiers = new Map<string, InstanceType<typeof InclusionVerifier>>();
    // Batches of odd sizes, so they end inside tiles and cross level-0 and level-1 tile ends
    // (256 and 65,536 entries) at many offsets.
    const sizes = [1, 255, 2, 300, 4093, 17, 65_000, 511, 1030];
    let at = 0;
    for (const n of sizes) {
      const results = await Promise.all(Array.from({ length: n }, (_, i) => log.append(utf8(`m${at + i}`))));
      at += n;
      for (const r of results) {
        let v = verifiers.get(r.checkpoint);
        if (v === undefined) {
          const { checkpoint } = openCheckpoint(r.checkpoint, [verifier]);
          v = new InclusionVerifier(checkpoint.size, checkpoint.rootHash, nodeHasher);
          verifiers.set(r.checkpoint, v);
        }
        v.verify({ index: r.index, leafHash: r.leafHash, proof: r.proof });
      }
    }
    expect(log.size).toBe(BigInt(at));
    await log.close();
  });
});

describe.each(storeKinds)('a tile cache smaller than the log, on $name', (kind: StoreKind) => {
  // The cache reuses the buffers of tiles it drops (TileCache): proofs served while tiles are
  // dropped and read again, many at once, must still be right.
  it.each([0, 2])('of %i tiles serves right proofs under concurrent reads', async (tileCacheSize) => {
    const made = kind.create();
    const log = await openLog(made.store, { tileCacheSize, maxDelayMs: 0 });
    try {
      const n = 256 * 24 + 7;
      await Promise.all(Array.from({ length: n }, (_, i) => log.append(utf8(`c${i}`))));
      const { checkpoint } = openCheckpoint(log.latestCheckpoint().note, [verifier]);
      const leafHashes = Array.from({ length: n }, (_, i) => H.leafHash(utf8(`c${i}`)));
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.nat(n - 1), { minLength: 1, maxLength: 60 }),
          fc.array(fc.integer({ min: 1, max: n }), { minLength: 1, maxLength: 20 }),
          async (indexes, sizes) => {
            const big = indexes.map(BigInt);
            const [batched, single, consistent] = await Promise.all([
              log.inclusionProofs(big),
              Promise.all(
                sizes.map((s, i) => log.inclusionProof(big[i % big.length]! % BigInt(s), BigInt(s))),
              ),
              Promise.all(sizes.map((s) => log.consistencyProof(BigInt(s)))),
            ]);
            for (const p of batched) {
              expect(p.leafHash).toEqual(leafHashes[Number(p.index)]);
              verifyInclusion({ ...p, rootHash: checkpoint.rootHash }, H);
            }
            for (const p of single) {
              expect(p.leafHash).toEqual(leafHashes[Number(p.index)]);
              verifyInclusion({ ...p, rootHash: rootOf(leafHashes, Number(p.size)) }, H);
            }
            for (const p of consistent) {
              verifyConsistency(
                { ...p, root1: rootOf(leafHashes, Number(p.size1)), root2: checkpoint.rootHash },
                H,
              );
            }
          },
        ),
        { numRuns: 15 },
      );
    } finally {
      await log.close();
      made.cleanup();
    }
  });
});

// Crash and fault scenarios with a full-log check after every step (DESIGN §3 invariants):
// an acknowledged entry is never lost, the tree only grows, one root per size.
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import type { TransparencyLog } from '../../src/log/log.js';
import { defaultHasher as H } from '../../src/merkle/index.js';
import { formatReceipt, verifyReceipt } from '../../src/note/index.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { openLog, verifier } from '../helpers/log.js';
import { type Acknowledged, CheckpointHistory, checkFullLog } from '../helpers/log-check.js';
import { type Fault, FaultyStore, storeKinds } from '../helpers/stores.js';
import { utf8 } from '../helpers/vectors.js';

type Step = { n: number; fault: Fault; crash: boolean };
const step = fc.record({
  n: fc.integer({ min: 1, max: 40 }),
  fault: fc.constantFrom<Fault>(undefined, undefined, 'before', 'after'),
  crash: fc.boolean(),
});

describe('faults and crashes', () => {
  it('random faults and crashes never lose an acknowledged entry nor fork the log', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 3, maxLength: 12 }), async (steps: Step[]) => {
        const durable = new MemoryStore();
        const store = new FaultyStore(durable);
        const history = new CheckpointHistory();
        const acked = new Map<bigint, Acknowledged>();
        let log: TransparencyLog = await openLog(store, { maxBatch: 16 });
        let counter = 0;
        for (const s of steps) {
          store.fault = s.fault;
          const entries = Array.from({ length: s.n }, () => utf8(`entry ${counter++} ${Math.random()}`));
          const settled = await Promise.allSettled(entries.map((e) => log.append(e)));
          for (const r of settled) {
            if (r.status === 'fulfilled') {
              verifyReceipt(formatReceipt(r.value), r.value.leafHash, [verifier]);
              const prev = acked.get(r.value.index);
              if (prev) expect(prev.leafHash).toEqual(r.value.leafHash);
              acked.set(r.value.index, r.value);
            } else {
              expect(r.reason).toMatchObject({ code: 'STORAGE' });
            }
          }
          // A crash: the log object is abandoned without closing; only the store survives.
          if (s.crash) log = await openLog(store, { maxBatch: 16 });
          const { checkpoint, leafHashes } = await checkFullLog(durable, verifier, acked.values());
          history.record(checkpoint, leafHashes);
          history.record(log.latestCheckpoint().checkpoint, leafHashes);
        }
        // Every stored checkpoint agrees with the final tree.
        const { leafHashes } = await checkFullLog(durable, verifier, acked.values());
        for (const [size, note] of durable.checkpoints) {
          const c = history.bySize.get(size);
          if (c) expect(new TextDecoder().decode(note)).toContain(Buffer.from(c).toString('base64'));
        }
        expect(leafHashes.length).toBeGreaterThanOrEqual(acked.size);
      }),
      { numRuns: 25 },
    );
  });

  it('after a fault past persisting, retries find the entries already there (no double append)', async () => {
    const store = new FaultyStore(new MemoryStore());
    const log = await openLog(store);
    await log.append(utf8('before'));
    store.fault = 'after';
    await expect(log.append(utf8('ghost'))).rejects.toMatchObject({ code: 'STORAGE' });
    const retry = await log.append(utf8('ghost'));
    expect(retry).toMatchObject({ index: 1n, duplicate: true });
    verifyReceipt(formatReceipt(retry), H.leafHash(utf8('ghost')), [verifier]);
    expect((await log.append(utf8('next'))).index).toBe(2n);
  });

  it('after a fault before persisting, service resumes without a restart', async () => {
    const store = new FaultyStore(new MemoryStore());
    const log = await openLog(store);
    store.fault = 'before';
    await expect(log.append(utf8('lost'))).rejects.toMatchObject({ code: 'STORAGE' });
    const r = await log.append(utf8('kept'));
    expect(r.index).toBe(0n);
    expect(log.size).toBe(1n);
  });

  for (const fault of ['before', 'after'] as const) {
    it(`a batch prepared on top of a commit that fails (${fault} persisting) is never written`, async () => {
      const durable = new MemoryStore();
      const store = new FaultyStore(durable);
      const log = await openLog(store, { maxBatch: 4 });
      await log.append(utf8('first'));
      let release!: () => void;
      store.hold = new Promise((r) => {
        release = r;
      });
      store.fault = fault;
      // Batch k (4 entries) starts its commit and is held; batch k+1 is prepared meanwhile.
      const k = Array.from({ length: 4 }, (_, i) => log.append(utf8(`k${i}`)));
      const k1 = Array.from({ length: 4 }, (_, i) => log.append(utf8(`k+1 ${i}`)));
      await vi.waitFor(() => expect(store.lookupsDuringCommit).toBeGreaterThan(0));
      release();
      store.hold = undefined;
      const settled = await Promise.allSettled([...k, ...k1]);
      for (const r of settled.slice(0, 4)) expect(r).toMatchObject({ reason: { code: 'STORAGE' } });
      // k+1 was built on k's tree: whatever happened to k, it is refused, not written on a guess.
      for (const r of settled.slice(4)) expect(r).toMatchObject({ reason: { code: 'STORAGE' } });
      expect(durable.checkpoints.size).toBe(fault === 'after' ? 3 : 2);
      // Service goes on from what is durable, with no second root for any size.
      const again = await Promise.all(['k0', 'k+1 0', 'later'].map((e) => log.append(utf8(e))));
      expect(again[0]).toMatchObject({ index: 1n, duplicate: fault === 'after' });
      const { checkpoint } = await checkFullLog(durable, verifier, [
        { index: 0n, leafHash: H.leafHash(utf8('first')) },
        ...again,
      ]);
      expect(checkpoint.size).toBe(log.size);
    });
  }

  it('a store that lost its tiles is refused at open', async () => {
    const store = new MemoryStore();
    const log = await openLog(store);
    await Promise.all(Array.from({ length: 10 }, (_, i) => log.append(utf8(`t${i}`))));
    store.tiles.clear();
    await expect(openLog(store)).rejects.toMatchObject({ code: 'CORRUPT' });
  });

  it('reopening a LevelDB log many times keeps every acknowledged entry', async () => {
    const kind = storeKinds.find((k) => k.name === 'leveldb')!;
    const made = kind.create();
    const history = new CheckpointHistory();
    const acked: Acknowledged[] = [];
    try {
      let store = made.store;
      for (let round = 0; round < 8; round++) {
        const log = await openLog(store, { maxBatch: 50 });
        const rs = await Promise.all(
          Array.from({ length: 90 }, (_, i) => log.append(utf8(`r${round}-${i}`))),
        );
        acked.push(...rs);
        await log.close();
        store = made.reopen();
        await store.open(log.options.origin);
        const { checkpoint, leafHashes } = await checkFullLog(store, verifier, acked);
        history.record(checkpoint, leafHashes);
        await store.close();
        store = made.reopen();
      }
    } finally {
      made.cleanup();
    }
  });
});

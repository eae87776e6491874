// How the sequencer cuts batches: a burst that finds nothing committing is split in two so its
// halves overlap (one commits while the other is prepared); small pools and pools that gather
// behind a commit are taken whole, up to maxBatch; commits keep their order.
import { describe, expect, it } from 'vitest';
import { type PoolItem, Sequencer } from '../../src/log/sequencer.js';

function recorder(commitMs = 5) {
  const batches: number[] = [];
  const committed: number[] = [];
  let next = 0;
  const sequencer = new Sequencer<number>(
    { maxBatch: 1000, maxDelayMs: 0, maxPending: 1 << 16 },
    async (items) => {
      const first = next;
      next += items.length;
      batches.push(items.length);
      return async () => {
        await new Promise((r) => setTimeout(r, commitMs));
        committed.push(first);
        return items.map((_, i) => first + i);
      };
    },
  );
  return { sequencer, batches, committed };
}

const item = (i: number): PoolItem => {
  const leafHash = new Uint8Array(32);
  new DataView(leafHash.buffer).setUint32(0, i + 1);
  return { entry: leafHash, leafHash };
};

const burst = (s: Sequencer<number>, from: number, n: number) =>
  Promise.all(Array.from({ length: n }, (_, i) => s.submit(item(from + i).entry, item(from + i).leafHash)));

describe('sequencer batches', () => {
  it('splits a burst that finds nothing committing, in order', async () => {
    const { sequencer, batches, committed } = recorder();
    const results = await burst(sequencer, 0, 100);
    expect(batches).toEqual([50, 50]);
    expect(results).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(committed).toEqual([0, 50]);
  });

  it('takes a small pool whole', async () => {
    const { sequencer, batches } = recorder();
    await burst(sequencer, 0, 63);
    expect(batches).toEqual([63]);
  });

  it('takes what gathered behind a commit whole, up to maxBatch', async () => {
    const { sequencer, batches } = recorder(30);
    const first = burst(sequencer, 0, 10);
    await new Promise((r) => setTimeout(r, 5)); // the first batch is committing now
    const second = burst(sequencer, 10, 1500);
    await Promise.all([first, second]);
    expect(batches).toEqual([10, 1000, 500]);
  });
});

describe('sequencer groups (submitMany)', () => {
  const many = (s: Sequencer<number>, ns: number[]) =>
    s.submitMany(
      ns.map((n) => item(n).entry),
      ns.map((n) => item(n).leafHash),
    );

  it('answers a group once, in order, across the batches it was cut into', async () => {
    const { sequencer, batches } = recorder();
    const results = await many(
      sequencer,
      Array.from({ length: 100 }, (_, i) => i),
    );
    expect(batches).toEqual([50, 50]);
    expect(results).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('a repeat inside a group or of an entry in flight gets the first one’s result', async () => {
    const { sequencer, batches } = recorder();
    const [a, b, c] = await Promise.all([
      many(sequencer, [1, 2, 1, 3]),
      sequencer.submit(item(2).entry, item(2).leafHash),
      many(sequencer, [3, 3, 4]),
    ]);
    expect(batches).toEqual([4]);
    expect(a).toEqual([0, 1, 0, 2]);
    expect(b).toBe(1);
    expect(c).toEqual([2, 2, 3]);
  });

  it('a group fails with its first failed batch; the batch before it stays answered', async () => {
    let calls = 0;
    const sequencer = new Sequencer<number>(
      { maxBatch: 10, maxDelayMs: 0, maxPending: 100 },
      async (items) => {
        const call = calls++;
        return async () => {
          if (call === 1) throw new Error(`batch ${call} failed`);
          return items.map((_, i) => call * 100 + i);
        };
      },
    );
    const single = sequencer.submit(item(0).entry, item(0).leafHash);
    const group = many(
      sequencer,
      Array.from({ length: 15 }, (_, i) => i + 1),
    );
    expect(await single).toBe(0);
    await expect(group).rejects.toThrow('batch 1 failed');
  });

  it('a group the pool cannot hold whole is refused whole', async () => {
    const { sequencer, batches } = recorder();
    const small = new Sequencer<number>({ maxBatch: 10, maxDelayMs: 0, maxPending: 5 }, async (items) => {
      return async () => items.map((_, i) => i);
    });
    await expect(many(small, [1, 2, 3, 4, 5, 6])).rejects.toMatchObject({ code: 'PUSHBACK' });
    expect(small.pending).toBe(0);
    expect(await many(small, [1, 2, 3, 4, 5])).toEqual([0, 1, 2, 3, 4]);
    expect(await many(sequencer, [])).toEqual([]);
    expect(batches).toEqual([]);
  });
});

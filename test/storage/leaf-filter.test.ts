// The dedup filter: never a false negative (dedup stays strong), few false positives (each
// one is a LevelDB lookup), at any size it grows to.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LeafHashFilter } from '../../src/storage/leaf-filter.js';

/** Leaf-hash-like bytes: SHA-256 of a counter and a tag, so every run sees the same ones. */
const hashOf = (tag: string, n: number) =>
  new Uint8Array(createHash('sha256').update(`${tag}:${n}`).digest());

function falsePositiveRate(filter: LeafHashFilter, tag: string, trials: number): number {
  let hits = 0;
  for (let i = 0; i < trials; i++) if (filter.mightHold(hashOf(tag, i))) hits++;
  return hits / trials;
}

describe('LeafHashFilter', () => {
  it('holds every leaf hash added, at any offset in its buffer, across segments', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { minLength: 1, maxLength: 400 }),
        fc.nat(40),
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 1, max: 50 }),
        (hashes, at, bitsPerEntry, minCapacity) => {
          const filter = new LeafHashFilter(0, { bitsPerEntry, minCapacity });
          const placed = hashes.map((h) => {
            const buf = new Uint8Array(at + 32 + 7).fill(0xa5);
            buf.set(h, at);
            return buf;
          });
          for (const b of placed) filter.add(b, at);
          expect(filter.entries).toBe(hashes.length);
          for (const h of hashes) expect(filter.mightHold(h)).toBe(true);
          for (const b of placed) expect(filter.mightHold(b, at)).toBe(true);
        },
      ),
    );
  });

  it('has about 1% false positives at 10 bits per entry when full', () => {
    const n = 100_000;
    const filter = new LeafHashFilter(n / 1.25, { minCapacity: 1 });
    for (let i = 0; i < n; i++) filter.add(hashOf('in', i));
    expect(filter.bytes).toBeLessThanOrEqual(Math.ceil((n * 10) / 8 / 64) * 64);
    const rate = falsePositiveRate(filter, 'out', 100_000);
    expect(rate).toBeGreaterThan(0);
    expect(rate).toBeLessThan(0.015);
  });

  it('grows by segments twice the entries so far, keeping false positives low', () => {
    const filter = new LeafHashFilter(0, { minCapacity: 1000 });
    for (let i = 0; i < 63_000; i++) filter.add(hashOf('in', i));
    // Segments of 1,000, 2,000, 6,000, 18,000 and 54,000 entries: 81,000 entries' worth of bits.
    expect(filter.bytes).toBeLessThanOrEqual(Math.ceil((81_000 * 10) / 8) + 5 * 64);
    expect(filter.bytes).toBeGreaterThan(Math.ceil((27_000 * 10) / 8));
    for (let i = 0; i < 63_000; i += 97) expect(filter.mightHold(hashOf('in', i))).toBe(true);
    expect(falsePositiveRate(filter, 'out', 50_000)).toBeLessThan(0.04);
  });

  it('more bits per entry, fewer false positives', () => {
    const rates = [4, 10, 16].map((bitsPerEntry) => {
      const filter = new LeafHashFilter(16_000, { bitsPerEntry, minCapacity: 1 });
      for (let i = 0; i < 20_000; i++) filter.add(hashOf('in', i));
      return falsePositiveRate(filter, 'out', 40_000);
    });
    expect(rates[0]).toBeGreaterThan(rates[1]!);
    expect(rates[1]).toBeGreaterThan(rates[2]!);
  });

  it('refuses bits per entry outside 1 to 64', () => {
    for (const bitsPerEntry of [0, 65, 1.5, Number.NaN]) {
      expect(() => new LeafHashFilter(10, { bitsPerEntry })).toThrow(RangeError);
    }
  });
});

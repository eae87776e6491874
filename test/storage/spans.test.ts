// Entry spans (src/storage/spans.ts): the row format and the file ranges computed from it,
// held to a model of prefix sums over the entries' lengths.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeSpan, encodeSpan, locate, type Span, spanBytes, spanCount } from '../../src/storage/spans.js';

const lengths = fc.array(fc.nat(70_000), { minLength: 1, maxLength: 40 });

/** Entries of the given lengths cut into spans at the given points, laid end to end from 0. */
function layout(sizes: number[], cuts: number[]): Span[] {
  const points = [...new Set([0, ...cuts.map((c) => c % sizes.length), sizes.length])].sort((a, b) => a - b);
  const spans: Span[] = [];
  let offset = 0;
  for (let i = 0; i + 1 < points.length; i++) {
    const part = sizes.slice(points[i], points[i + 1]);
    const row = encodeSpan(
      offset,
      part.map((n) => ({ length: n })),
    );
    spans.push(decodeSpan(BigInt(points[i]!), row));
    offset += part.reduce((a, b) => a + b, 0);
  }
  return spans;
}

describe('entry spans', () => {
  it('a row decodes to the offset and lengths it was encoded from', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 1n << 60n }),
        fc.nat(2 ** 52),
        lengths,
        (start, offset, sizes) => {
          const span = decodeSpan(
            start,
            encodeSpan(
              offset,
              sizes.map((n) => ({ length: n })),
            ),
          );
          expect(span.start).toBe(start);
          expect(span.offset).toBe(offset);
          expect([...span.lengths]).toEqual(sizes);
          expect(spanCount(span)).toBe(sizes.length);
          expect(spanBytes(span)).toBe(sizes.reduce((a, b) => a + b, 0));
        },
      ),
    );
  });

  it('rows no encoder writes are CORRUPT: too short, ragged, or an offset past any file', () => {
    fc.assert(
      fc.property(fc.nat(200), (n) => {
        const row = new Uint8Array(n);
        if (n >= 12 && (n - 8) % 4 === 0) expect(() => decodeSpan(0n, row)).not.toThrow();
        else expect(() => decodeSpan(0n, row)).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
      }),
    );
    const far = encodeSpan(0, [new Uint8Array(1)]);
    far[0] = 0x01; // offset 2^56
    expect(() => decodeSpan(0n, far)).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
  });

  it('locate gives the byte range and lengths of any index range, as prefix sums do', () => {
    fc.assert(
      fc.property(lengths, fc.array(fc.nat(), { maxLength: 8 }), fc.nat(), fc.nat(), (sizes, cuts, a, b) => {
        const spans = layout(sizes, cuts);
        const start = a % sizes.length;
        const end = start + (b % (sizes.length - start + 3)); // may run past the last span
        // The spans a store would hand over: the one holding start, then those starting before end.
        let holding = 0;
        while (spans[holding + 1] !== undefined && spans[holding + 1]!.start <= BigInt(start)) holding++;
        const given = spans.filter(
          (s, i) => i === holding || (s.start > BigInt(start) && s.start < BigInt(end)),
        );
        const got = locate(given, BigInt(start), BigInt(end));
        const want = sizes.slice(start, Math.min(end, sizes.length));
        const before = sizes.slice(0, start).reduce((x, y) => x + y, 0);
        expect(got.lengths).toEqual(want);
        expect(got.length).toBe(want.reduce((x, y) => x + y, 0));
        if (want.length > 0) expect(got.offset).toBe(before);
      }),
    );
  });

  it('locate refuses spans that skip or repeat an index or a byte', () => {
    fc.assert(
      fc.property(
        lengths.filter((s) => s.length >= 2),
        fc.integer({ min: 1, max: 1000 }),
        fc.boolean(),
        (sizes, shift, byIndex) => {
          const spans = layout(sizes, [1]);
          const [first, second] = spans as [Span, Span];
          const moved: Span = byIndex
            ? { ...second, start: second.start + BigInt(shift) }
            : { ...second, offset: second.offset + shift };
          expect(() => locate([first, moved], 0n, BigInt(sizes.length))).toThrow(
            expect.objectContaining({ code: 'CORRUPT' }),
          );
        },
      ),
    );
  });
});

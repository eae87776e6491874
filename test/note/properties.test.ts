// Parsers: canonical round trips, and arbitrary input never crashes (only MALFORMED errors).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isVellumError } from '../../src/error.js';
import { defaultHasher as H } from '../../src/merkle/index.js';
import {
  decodeBase64,
  encodeBase64,
  formatCheckpoint,
  formatNote,
  formatReceipt,
  generateKey,
  parseCheckpoint,
  parseNote,
  parseReceipt,
  parseSignerKey,
  parseVerifierKey,
  signCheckpoint,
} from '../../src/note/index.js';
import { vectors } from '../helpers/vectors.js';

const onlyMalformed = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    if (!isVellumError(e, 'MALFORMED')) throw e;
  }
};

const origin = fc.stringMatching(/^[a-z0-9.\-/]{1,40}$/);
const hash = fc.uint8Array({ minLength: 32, maxLength: 32 });
const checkpoint = fc.record({
  origin,
  size: fc.bigInt({ min: 1n, max: (1n << 64n) - 1n }),
  rootHash: hash,
  extensions: fc.array(fc.stringMatching(/^[ -~]{1,20}$/), { maxLength: 3 }),
});

describe('format parsers', () => {
  it('base64: decode(encode(b)) === b; non-canonical text is refused', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (b) => {
        expect(decodeBase64(encodeBase64(b))).toEqual(b);
      }),
    );
    for (const bad of ['YQ', 'YR==', 'YQ==\n', ' YQ==', 'YQ=', 'Y===', '-_8=', 'YW=j', '====', 'YWJ\u00e9'])
      expect(decodeBase64(bad)).toBeUndefined();
  });

  it('base64: accepts exactly the canonical texts, as a regex and a re-encode would', () => {
    // Reference: the strict grammar, then Node's decoder, then canonical re-encoding.
    const grammar = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
    const reference = (t: string) => {
      if (!grammar.test(t)) return undefined;
      const b = new Uint8Array(Buffer.from(t, 'base64'));
      return Buffer.from(b).toString('base64') === t ? b : undefined;
    };
    const chars = fc.constantFrom(...'AQgwYZaz09+/=-_ \u00e9'.split(''));
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 16 }), (cs) => {
        const t = cs.join('');
        expect(decodeBase64(t)).toEqual(reference(t));
      }),
      { numRuns: 5000 },
    );
  });

  it('checkpoint: format(parse(x)) === x', () => {
    fc.assert(
      fc.property(checkpoint, (c) => {
        const text = formatCheckpoint(c);
        expect(formatCheckpoint(parseCheckpoint(text))).toBe(text);
        expect(parseCheckpoint(text)).toEqual(c);
      }),
    );
  });

  it('checkpoint: strict rules', () => {
    const root = encodeBase64(new Uint8Array(32));
    for (const bad of [
      `o\n01\n${root}\n`,
      `o\n-1\n${root}\n`,
      `o\n18446744073709551616\n${root}\n`,
      `o\n1\n${root}`,
      `o\n1\n${root}\n\n`,
      `o\n1\n${encodeBase64(new Uint8Array(31))}\n`,
      `o\n0\n${root}\n`,
      `\n1\n${root}\n`,
      'o\n1\n',
    ]) {
      expect(() => parseCheckpoint(bad)).toThrow(expect.objectContaining({ code: 'MALFORMED' }));
    }
    expect(parseCheckpoint(`o\n0\n${encodeBase64(H.emptyRoot())}\n`).size).toBe(0n);
  });

  it('note: format(parse(x)) === x for signed notes', () => {
    const key = parseSignerKey(generateKey('example.com/p').signerKey);
    fc.assert(
      fc.property(checkpoint, (c) => {
        const note = signCheckpoint(c, [key]);
        expect(formatNote(parseNote(note))).toBe(note);
      }),
      { numRuns: 50 },
    );
  });

  it('receipt: format(parse(x)) === x', () => {
    const key = parseSignerKey(generateKey('example.com/p').signerKey);
    fc.assert(
      fc.property(
        checkpoint,
        fc.array(hash, { maxLength: 64 }),
        fc.option(fc.uint8Array({ minLength: 1, maxLength: 64 })),
        (c, proof, extra) => {
          const r = {
            index: c.size - 1n,
            proof,
            checkpoint: signCheckpoint(c, [key]),
            ...(extra ? { extra } : {}),
          };
          const text = formatReceipt(r);
          expect(formatReceipt(parseReceipt(text))).toBe(text);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('arbitrary input to every parser throws only MALFORMED', () => {
    const seeds = [
      vectors.note.checkpoint as string,
      vectors.note.logVkey as string,
      vectors.note.logSkey as string,
    ];
    const mutated = fc
      .tuple(fc.constantFrom(...seeds), fc.nat(), fc.string({ maxLength: 4 }))
      .map(([s, at, ins]) => {
        const i = at % (s.length + 1);
        return s.slice(0, i) + ins + s.slice(i + 1);
      });
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'grapheme', maxLength: 100 }), mutated),
        (s) => {
          onlyMalformed(() => parseNote(s));
          onlyMalformed(() => parseCheckpoint(s));
          onlyMalformed(() => parseReceipt(s));
          onlyMalformed(() => parseVerifierKey(s));
          onlyMalformed(() => parseSignerKey(s));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('caps note size and signature count', () => {
    const line = `— k ${encodeBase64(new Uint8Array(68))}\n`;
    expect(() => parseNote(`t\n\n${line.repeat(101)}`)).toThrow(/more than 100/);
    expect(parseNote(`t\n\n${line.repeat(100)}`).signatures).toHaveLength(100);
    expect(() => parseNote(`${'a'.repeat(1 << 20)}\n\n${line}`)).toThrow(/larger than/);
  });
});

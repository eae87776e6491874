// The math, the formats and the client's verifier must run in a browser (DESIGN §1): no Node
// built-ins, no Buffer, no process. This keeps it that way.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);
const files = [
  ...readdirSync(new URL('src/merkle/', root)).map((f) => `src/merkle/${f}`),
  ...readdirSync(new URL('src/note/', root)).map((f) => `src/note/${f}`),
  'src/error.ts',
  'client/verify.ts',
];

describe('browser-safe modules', () => {
  it.each(files)('%s uses no Node built-ins', (file) => {
    const text = readFileSync(new URL(file, root), 'utf8').replace(/^\s*\/\/.*$/gm, ''); // code, not comments
    expect(text).not.toMatch(/from ['"]node:|require\(|\bBuffer\b|\bprocess\./);
    for (const m of text.matchAll(/from '(\.[^']+)'/g)) {
      expect(m[1], `${file} imports ${m[1]}`).not.toMatch(/storage|\/log\/|rpc|cli|trusted-state|grpc/);
    }
  });
});

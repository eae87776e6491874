// The client's trusted checkpoint, persisted to a file (written to a temporary file and renamed,
// so a crash never leaves half a state behind).
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { VellumError } from '../src/error.js';
import { parseCheckpoint } from '../src/note/checkpoint.js';
import { parseNote } from '../src/note/note.js';
import type { TrustedCheckpoint } from './verify.js';

export function readTrustedState(path: string): TrustedCheckpoint | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const { checkpoint: note } = JSON.parse(readFileSync(path, 'utf8')) as { checkpoint: string };
    return { checkpoint: parseCheckpoint(parseNote(note).text), note };
  } catch (e) {
    throw new VellumError('CONFIG', `trusted state ${path}: ${(e as Error).message}`);
  }
}

export function writeTrustedState(path: string, trusted: TrustedCheckpoint): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const c = trusted.checkpoint;
  const body = { origin: c.origin, size: c.size.toString(), checkpoint: trusted.note };
  writeFileSync(tmp, `${JSON.stringify(body, null, 2)}\n`);
  renameSync(tmp, path);
}

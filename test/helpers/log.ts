import { type LogOptions, TransparencyLog } from '../../src/log/log.js';
import { parseSignerKey, verifierOf } from '../../src/note/index.js';
import type { LogStore } from '../../src/storage/log-store.js';
import { vectors } from './vectors.js';

export const ORIGIN = vectors.note.origin as string;
export const signer = parseSignerKey(vectors.note.logSkey as string);
export const verifier = verifierOf(signer);

export function openLog(store: LogStore, options: Partial<LogOptions> = {}) {
  return TransparencyLog.open(store, { origin: ORIGIN, signer, maxDelayMs: 1, ...options });
}

// CLI output and exit codes: 0 ok, 1 verification failed, 2 usage or connection error.
import { isVellumError } from '../error.js';
import { encodeBase64 } from '../note/encoding.js';

export const EXIT_OK = 0;
export const EXIT_VERIFY = 1;
export const EXIT_USAGE = 2;

export const b64 = encodeBase64;

/** JSON with bigints as numbers when safe (sizes of real logs), else as strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_, v) =>
    typeof v === 'bigint' ? (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()) : v,
  );
}

export function exitCodeFor(e: unknown): number {
  return isVellumError(e, 'VERIFICATION_FAILED') || isVellumError(e, 'INCONSISTENT')
    ? EXIT_VERIFY
    : EXIT_USAGE;
}

export function report(e: unknown, json: boolean): number {
  const code = exitCodeFor(e);
  const message = e instanceof Error ? e.message : String(e);
  if (json) {
    const err = isVellumError(e)
      ? { code: e.code, message, evidence: e.evidence }
      : { code: 'ERROR', message };
    process.stdout.write(`${toJson({ error: err })}\n`);
  } else {
    process.stderr.write(`vellum: ${message}\n`);
    if (isVellumError(e) && e.evidence && code === EXIT_VERIFY)
      process.stderr.write(`evidence: ${toJson(e.evidence)}\n`);
  }
  return code;
}

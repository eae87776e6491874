/**
 * The one error type for expected failures (DESIGN §8.4). `code` is a stable string that
 * callers switch on; `evidence`, when present, carries the material that proves
 * misbehaviour (both signed notes, the proof) so it can be shown to a third party.
 *
 * This module imports nothing, so every layer may use it.
 */
export type ErrorCode =
  // input that does not parse or violates a format rule
  | 'MALFORMED'
  // a value outside what the log holds (index ≥ size, size2 > current size, …)
  | 'OUT_OF_RANGE'
  | 'NOT_FOUND'
  // entry or message larger than the configured cap
  | 'TOO_LARGE'
  // the sequencer's pool is full: retry later
  | 'PUSHBACK'
  // the log is closing or closed
  | 'CLOSED'
  // a proof, signature or receipt that does not verify
  | 'VERIFICATION_FAILED'
  // two signed statements that cannot both be true (split view, rollback)
  | 'INCONSISTENT'
  // the store failed or holds data that contradicts itself
  | 'STORAGE'
  | 'CORRUPT'
  | 'CONFIG'
  // a remote call failed (connection, deadline, or the server's own error status)
  | 'RPC';

export class VellumError extends Error {
  override readonly name = 'VellumError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly evidence?: Readonly<Record<string, unknown>>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isVellumError(e: unknown, code?: ErrorCode): e is VellumError {
  return e instanceof VellumError && (code === undefined || e.code === code);
}

/** Bugs crash: an assertion failure is never an expected error. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

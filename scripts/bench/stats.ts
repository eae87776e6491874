// Small helpers for the benchmark: percentiles, rates, timed loops.
export interface Latencies {
  p50: number;
  p99: number;
  p999: number;
}

export function percentiles(samplesMs: number[]): Latencies {
  const s = [...samplesMs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
  return { p50: at(0.5), p99: at(0.99), p999: at(0.999) };
}

/** Runs `callers` loops of `op` for `seconds`; returns ops/s and per-op latency. */
export async function closedLoop(callers: number, seconds: number, op: () => Promise<unknown>) {
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  let done = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        await op();
        latencies.push(performance.now() - t);
        done++;
      }
    }),
  );
  return { rate: done / ((performance.now() - start) / 1000), ...percentiles(latencies), ops: done };
}

/** Ops per second of a synchronous function, after a warm-up. */
export function syncRate(n: number, f: (i: number) => void): number {
  for (let i = 0; i < Math.min(1000, n); i++) f(i);
  const t = performance.now();
  for (let i = 0; i < n; i++) f(i);
  return n / ((performance.now() - t) / 1000);
}

export function entry(i: number, salt = 0, into = new Uint8Array(256)): Uint8Array {
  // 256 bytes, unique per (i, salt), otherwise incompressible-ish filler.
  const v = new DataView(into.buffer, into.byteOffset, 256);
  v.setUint32(0, i);
  v.setUint32(4, salt);
  let x = (i * 2654435761 + salt * 40503) >>> 0 || 1;
  for (let k = 8; k < 256; k += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    v.setUint32(k, x >>> 0);
  }
  return into;
}

/**
 * Entries start … start+count−1 as views of one buffer: the load generator then costs one
 * allocation per chunk, not one per entry, and shares the CPU less with what it measures.
 */
export function entryRange(start: number, count: number, salt = 0): Uint8Array[] {
  const buf = new Uint8Array(count * 256);
  return Array.from({ length: count }, (_, i) =>
    entry(start + i, salt, buf.subarray(i * 256, i * 256 + 256)),
  );
}

export const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

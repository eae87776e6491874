// Server configuration: defaults < config file (YAML or JSON) < environment (VELLUM_*) < flags,
// validated with zod at start; every problem is reported at once, with the setting's name.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { VellumError } from './error.js';
import { isValidKeyName } from './note/keys.js';

const hostPort = z.string().regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be HOST:PORT');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z.union([
  z.boolean(),
  z.enum(['true', 'false', '1', '0']).transform((s) => s === 'true' || s === '1'),
]);

export const ConfigSchema = z
  .object({
    /** Data directory: the LevelDB store, the signing key and the verifier key. */
    data: z.string().min(1).default('./data'),
    /** gRPC listen address. Loopback by default; other addresses require TLS (or insecure). */
    listen: hostPort.default('127.0.0.1:50051'),
    /** The log's origin (c2sp.org/tlog-checkpoint), also the signing key's name. */
    origin: z
      .string()
      .refine(isValidKeyName, 'must be non-empty, without spaces or "+"')
      .default('localhost/vellum'),
    /** Signing key file; default <data>/log.key, created on first start. */
    key: z.string().min(1).optional(),
    /** Prometheus metrics listen address, or "off". */
    metricsListen: z.union([hostPort, z.literal('off')]).default('127.0.0.1:9464'),
    maxBatch: int(1, 100_000).default(1024),
    maxDelayMs: int(0, 1000).default(0),
    maxPending: int(1, 10_000_000).default(65_536),
    maxEntryBytes: int(1, 16 * 1024 * 1024).default(64 * 1024),
    /** Full tiles kept expanded in memory, ~16 KiB each: 4096 hold a 1,048,576-entry tree's. */
    tileCacheSize: int(0, 1_000_000).default(4096),
    /**
     * LevelDB table files kept open (and memory-mapped, which counts in RSS). Fewer trade RSS
     * for append speed on large logs: BENCHMARKS.md measures both at 10M entries.
     */
    leveldbMaxOpenFiles: int(74, 50_000).default(1000), // LevelDB's own range (SanitizeOptions)
    /**
     * Bits per entry of the in-memory filter in front of the dedup index (~1.25 bytes per
     * entry at 10); 0 turns it off and every append asks LevelDB.
     */
    dedupFilterBits: int(0, 64).default(10),
    /** fsync every integration batch. Turning it off risks losing acknowledged entries. */
    durable: bool.default(true),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    tlsCert: z.string().optional(),
    tlsKey: z.string().optional(),
    /** Allow plaintext gRPC on a non-loopback address. */
    insecure: bool.default(false),
  })
  .strict();

export type Config = z.infer<typeof ConfigSchema> & { key: string };

/** Environment variable for each setting: VELLUM_ + SCREAMING_SNAKE of its name. */
export const envName = (key: string) => `VELLUM_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

export function loadConfig(sources: {
  file?: string;
  env?: NodeJS.ProcessEnv;
  flags?: Record<string, unknown>;
}): Config {
  let fromFile: Record<string, unknown> = {};
  if (sources.file !== undefined) {
    try {
      fromFile = (parseYaml(readFileSync(sources.file, 'utf8')) as Record<string, unknown>) ?? {};
    } catch (e) {
      throw new VellumError('CONFIG', `config file ${sources.file}: ${(e as Error).message}`);
    }
  }
  const fromEnv: Record<string, unknown> = {};
  for (const key of Object.keys(ConfigSchema.shape)) {
    const v = sources.env?.[envName(key)];
    if (v !== undefined) fromEnv[key] = v;
  }
  const flags = Object.fromEntries(Object.entries(sources.flags ?? {}).filter(([, v]) => v !== undefined));
  const parsed = ConfigSchema.safeParse({ ...fromFile, ...fromEnv, ...flags });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`);
    throw new VellumError('CONFIG', `invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const c = parsed.data;
  if ((c.tlsCert === undefined) !== (c.tlsKey === undefined)) {
    throw new VellumError('CONFIG', 'invalid configuration:\n  tlsCert and tlsKey go together');
  }
  return { ...c, key: c.key ?? join(c.data, 'log.key') };
}

export function isLoopback(listen: string): boolean {
  const host = listen.slice(0, listen.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

// Composition: the one place that picks concrete implementations (LevelDB store, node:crypto
// hashing, pino logs, prom-client metrics) and wires them to the log and the gRPC server.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ServerCredentials } from '@grpc/grpc-js';
import { pino } from 'pino';
import { type Config, isLoopback } from './config.js';
import { VellumError } from './error.js';
import { loadOrCreateKey } from './keyfile.js';
import { TransparencyLog } from './log/log.js';
import { Metrics } from './metrics.js';
import { startRpcServer } from './rpc/server.js';
import { LevelStore } from './storage/level-store.js';

export interface Serving {
  readonly port: number;
  readonly metricsPort: number | undefined;
  readonly verifierKey: string;
  shutdown(): Promise<void>;
}

function credentials(config: Config): ServerCredentials {
  if (config.tlsCert !== undefined && config.tlsKey !== undefined) {
    return ServerCredentials.createSsl(null, [
      { cert_chain: readFileSync(config.tlsCert), private_key: readFileSync(config.tlsKey) },
    ]);
  }
  if (!isLoopback(config.listen) && !config.insecure) {
    throw new VellumError(
      'CONFIG',
      `listening on ${config.listen} needs TLS (tlsCert, tlsKey) or --insecure`,
    );
  }
  return ServerCredentials.createInsecure();
}

export async function serve(config: Config, logger = pino({ level: config.logLevel })): Promise<Serving> {
  mkdirSync(config.data, { recursive: true });
  const key = loadOrCreateKey(config.key, join(config.data, 'log.vkey'), config.origin);
  if (key.created) logger.info({ key: config.key }, 'generated a new signing key');
  const metrics = new Metrics();
  const store = new LevelStore(join(config.data, 'db'), {
    durable: config.durable,
    maxOpenFiles: config.leveldbMaxOpenFiles,
    dedupFilterBits: config.dedupFilterBits,
  });
  const log = await TransparencyLog.open(store, {
    origin: config.origin,
    signer: key.signer,
    maxBatch: config.maxBatch,
    maxDelayMs: config.maxDelayMs,
    maxPending: config.maxPending,
    maxEntryBytes: config.maxEntryBytes,
    tileCacheSize: config.tileCacheSize,
    onIntegrated: (info) => metrics.integrated(info),
  });
  metrics.treeSize.set(Number(log.size));
  metrics.watchDedupFilter(() => store.dedupFilter);
  const filterStarted = performance.now();
  void store.dedupFilterBuilt().then((built) => {
    const f = store.dedupFilter;
    if (built && f !== undefined) {
      const ms = Math.round(performance.now() - filterStarted);
      logger.info({ entries: f.entries, bytes: f.bytes, ms }, 'dedup filter built');
    }
  });
  let rpc: Awaited<ReturnType<typeof startRpcServer>>;
  try {
    rpc = await startRpcServer({
      log,
      listen: config.listen,
      credentials: credentials(config),
      limits: { maxMessageBytes: Math.max(32 << 20, config.maxEntryBytes * 2) },
      hooks: { onError: (method, code) => metrics.rpcError(method, code) },
    });
  } catch (e) {
    await log.close();
    throw e;
  }
  const http = config.metricsListen === 'off' ? undefined : await metrics.serve(config.metricsListen);
  logger.info(
    {
      listen: config.listen,
      port: rpc.port,
      metrics: http ? `${config.metricsListen.replace(/:\d+$/, '')}:${http.port}/metrics` : 'off',
      origin: config.origin,
      size: log.size.toString(),
      verifierKey: key.verifierKey,
      durable: config.durable,
    },
    'vellum is serving',
  );
  return {
    port: rpc.port,
    metricsPort: http?.port,
    verifierKey: key.verifierKey,
    async shutdown() {
      logger.info('shutting down: refusing new appends, answering accepted ones');
      await rpc.shutdown();
      await new Promise((r) => (http ? http.server.close(r) : r(undefined)));
      logger.info({ size: log.size.toString() }, 'stopped');
    },
  };
}

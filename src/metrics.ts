// Prometheus metrics (prom-client) and the HTTP endpoint that serves them.
import { createServer, type Server } from 'node:http';
import type { status } from '@grpc/grpc-js';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { IntegrationInfo } from './log/log.js';
import type { DedupFilterState } from './storage/level-store.js';

export class Metrics {
  readonly registry = new Registry();
  readonly appends = new Counter({
    name: 'vellum_appends_total',
    help: 'Appends answered, by whether the entry was new or a duplicate',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({
    name: 'vellum_batch_entries',
    help: 'New entries per integration batch',
    buckets: [1, 4, 16, 64, 256, 1024, 4096, 16384],
    registers: [this.registry],
  });
  readonly integrationSeconds = new Histogram({
    name: 'vellum_integration_seconds',
    help: 'Time to integrate a batch: dedup lookup, tiles, signing, commit with fsync, receipts',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  readonly treeSize = new Gauge({
    name: 'vellum_tree_size',
    help: 'Entries in the log',
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: 'vellum_rpc_errors_total',
    help: 'Failed RPCs by method and gRPC status code',
    labelNames: ['method', 'code'],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Gauges of the store's dedup filter, read at each scrape. */
  watchDedupFilter(read: () => DedupFilterState | undefined): void {
    new Gauge({
      name: 'vellum_dedup_filter_bytes',
      help: 'Memory of the in-memory filter in front of the dedup index',
      registers: [this.registry],
      collect() {
        this.set(read()?.bytes ?? 0);
      },
    });
    new Gauge({
      name: 'vellum_dedup_filter_ready',
      help: '1 once the dedup filter holds every leaf hash and answers lookups, else 0',
      registers: [this.registry],
      collect() {
        this.set(read()?.ready ? 1 : 0);
      },
    });
  }

  integrated(info: IntegrationInfo): void {
    if (info.entries > 0) this.batchSize.observe(info.entries);
    this.appends.inc({ result: 'new' }, info.entries);
    this.appends.inc({ result: 'duplicate' }, info.appends - info.entries);
    this.integrationSeconds.observe(info.seconds);
    this.treeSize.set(Number(info.size));
  }

  rpcError(method: string, code: status): void {
    this.errors.inc({ method, code: String(code) });
  }

  /** Serves GET /metrics on host:port; resolves with the bound port. */
  async serve(listen: string): Promise<{ server: Server; port: number }> {
    const at = listen.lastIndexOf(':');
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || req.url !== '/metrics') {
        res.writeHead(404).end('not found\n');
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(Number(listen.slice(at + 1)), listen.slice(0, at).replace(/^\[|\]$/g, ''), resolve);
    });
    const address = server.address();
    return { server, port: typeof address === 'object' && address ? address.port : 0 };
  }
}

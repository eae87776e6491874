import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createLogClient, type LogClient } from '../../client/log-client.js';
import { loadConfig } from '../../src/config.js';
import { type Serving, serve } from '../../src/serve.js';

export interface TestServer {
  dir: string;
  serving: Serving;
  address: string;
  client(options?: { trustedStatePath?: string }): LogClient;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** A real server: gRPC on 127.0.0.1:0, LevelDB in a temp dir. */
export async function startServer(flags: Record<string, unknown> = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'vellum-rpc-'));
  const config = () =>
    loadConfig({
      flags: {
        data: dir,
        listen: '127.0.0.1:0',
        metricsListen: 'off',
        origin: 'test.vellum.example/log',
        ...flags,
      },
    });
  const logger = pino({ level: 'silent' });
  const t: TestServer = {
    dir,
    serving: await serve(config(), logger),
    get address() {
      return `127.0.0.1:${t.serving.port}`;
    },
    client: (options = {}) =>
      createLogClient({ address: t.address, verifierKey: t.serving.verifierKey, ...options }),
    async restart() {
      await t.serving.shutdown();
      t.serving = await serve(config(), logger);
    },
    async stop() {
      await t.serving.shutdown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return t;
}

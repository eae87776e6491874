#!/usr/bin/env node
// The `vellum` command line: serve, keygen, and the verifying client commands.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { loadConfig } from '../config.js';
import { fsckDataDir } from '../fsck.js';
import { formatVerifierKey, generateKey, parseSignerKey, verifierOf } from '../note/keys.js';
import { serve } from '../serve.js';
import { addClientCommands, type ClientFlags, loadVerifier, type Runner } from './client-commands.js';
import { EXIT_OK, EXIT_USAGE, EXIT_VERIFY, report, toJson } from './output.js';

const run: Runner =
  (f) =>
  async (...a: unknown[]) => {
    const command = a[a.length - 1] as Command;
    const flags = command.opts() as ClientFlags;
    try {
      process.exitCode = await f(flags as never, ...a.slice(0, -2));
    } catch (e) {
      process.exitCode = report(e, flags.json === true);
    }
  };

const program = new Command('vellum')
  .description(
    'vellum: an immutable audit log (RFC 6962 transparency log with C2SP checkpoints and receipts)',
  )
  .version('0.1.0')
  .exitOverride()
  .showHelpAfterError();

program
  .command('serve')
  .description('run the log server (gRPC, health, reflection; Prometheus metrics over HTTP)')
  .option('--config <file>', 'YAML or JSON config file')
  .option('--data <dir>', 'data directory (LevelDB store, log.key, log.vkey) [./data]')
  .option('--listen <host:port>', 'gRPC listen address [127.0.0.1:50051]')
  .option('--origin <name>', 'log origin, also the signing key name [localhost/vellum]')
  .option('--key <file>', 'signing key file [<data>/log.key]')
  .option('--metrics-listen <host:port|off>', 'Prometheus metrics address [127.0.0.1:9464]')
  .option('--max-batch <n>', 'most entries per integration batch [1024]')
  .option('--max-delay-ms <ms>', 'how long a batch waits to fill (0: group commit only) [0]')
  .option('--max-pending <n>', 'sequencer pool size; beyond it appends are refused [65536]')
  .option('--max-entry-bytes <n>', 'largest entry [65536]')
  .option('--tile-cache-size <tiles>', 'full tiles kept expanded in memory, ~16 KiB each [4096]')
  .option('--leveldb-max-open-files <n>', 'LevelDB table files kept open and mapped [1000]')
  .option('--dedup-filter-bits <n>', 'bits per entry of the in-memory dedup filter (0: off) [10]')
  .addOption(new Option('--durable <bool>', 'fsync every batch [true]'))
  .option('--log-level <level>', 'pino log level [info]')
  .option('--tls-cert <file>', 'TLS certificate chain (PEM)')
  .option('--tls-key <file>', 'TLS private key (PEM)')
  .option('--insecure', 'allow plaintext gRPC on a non-loopback address')
  .action(async (opts: Record<string, unknown>) => {
    const { config: file, ...flags } = opts;
    let config: ReturnType<typeof loadConfig>;
    try {
      config = loadConfig({ ...(file ? { file: String(file) } : {}), env: process.env, flags });
    } catch (e) {
      process.exitCode = report(e, false);
      return;
    }
    try {
      const server = await serve(config);
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        process.stderr.write(`received ${signal}\n`);
        server.shutdown().then(
          () => process.exit(EXIT_OK),
          (e) => process.exit(report(e, false)),
        );
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
    } catch (e) {
      process.exitCode = report(e, false);
    }
  });

program
  .command('keygen')
  .description('generate an Ed25519 note key pair (Go sumdb/note format)')
  .requiredOption('--origin <name>', 'key name: the log origin')
  .option('--out <file>', 'write the signer key here (mode 0600) instead of printing it')
  .option('--json', 'machine-readable output')
  .action(
    run(async (flags: ClientFlags & { origin?: string; out?: string }) => {
      const { signerKey, verifierKey } = generateKey(flags.origin!);
      if (formatVerifierKey(verifierOf(parseSignerKey(signerKey))) !== verifierKey)
        throw new Error('keygen self-check failed');
      if (flags.out) writeFileSync(flags.out, `${signerKey}\n`, { mode: 0o600, flag: 'wx' });
      const out = flags.out ? { verifierKey, signerKeyFile: flags.out } : { verifierKey, signerKey };
      process.stdout.write(
        flags.json ? `${toJson(out)}\n` : `${flags.out ? '' : `${signerKey}\n`}${verifierKey}\n`,
      );
      return EXIT_OK;
    }),
  );

program
  .command('fsck')
  .description('check a data directory offline (server stopped): every entry, tile, checkpoint and dedup row')
  .requiredOption('--data <dir>', 'data directory')
  .option('--vkey <vkey-or-file>', "the log's verifier key [<data>/log.vkey]")
  .option('--json', 'machine-readable output')
  .action(
    run(async (flags: ClientFlags & { data?: string }) => {
      const verifier = loadVerifier(flags.vkey ?? join(flags.data!, 'log.vkey'));
      const r = await fsckDataDir(flags.data!, verifier);
      if (flags.json) process.stdout.write(`${toJson(r)}\n`);
      else {
        process.stdout.write(
          r.ok
            ? `fsck ok: ${r.entries} entries, ${r.tiles} tiles and ${r.checkpoints} checkpoints agree with the signed size-${r.size} tree\n`
            : `fsck FAILED (${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}):\n${r.problems.map((p) => `  ${p.message}`).join('\n')}\n`,
        );
      }
      return r.ok ? EXIT_OK : EXIT_VERIFY;
    }),
  );

addClientCommands(program, run);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode =
      e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help'
        ? EXIT_OK
        : EXIT_USAGE;
  } else {
    process.exitCode = report(e, false);
  }
}

// The client commands of the CLI: each opens a verifying LogClient and prints what it verified.
import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { createLogClient, type LogClient, type VerifiedAppend } from '../../client/log-client.js';
import { VellumError } from '../error.js';
import { defaultHasher } from '../merkle/hash.js';
import { decodeBase64 } from '../note/encoding.js';
import { parseVerifierKey, type Verifier } from '../note/keys.js';
import { verifyReceipt } from '../note/receipt.js';
import { b64, EXIT_OK, EXIT_VERIFY, toJson } from './output.js';

export interface ClientFlags {
  server: string;
  vkey: string;
  state?: string;
  json?: boolean;
}

const usage = (m: string) => new VellumError('CONFIG', m);

/** --vkey takes the key text itself or a file holding it. */
export function loadVerifier(vkey: string): Verifier {
  const text = existsSync(vkey) ? readFileSync(vkey, 'utf8').trim() : vkey;
  if (!text.includes('+')) throw usage(`--vkey ${vkey}: neither a verifier key nor a readable file`);
  return parseVerifierKey(text);
}

function open(flags: ClientFlags): LogClient {
  return createLogClient({
    address: flags.server,
    verifierKey: loadVerifier(flags.vkey),
    ...(flags.state ? { trustedStatePath: flags.state } : {}),
  });
}

export function parseUint(name: string, text: string): bigint {
  if (!/^(0|[1-9][0-9]*)$/.test(text) || BigInt(text) >= 1n << 64n)
    throw usage(`${name} must be a whole number, got ${JSON.stringify(text)}`);
  return BigInt(text);
}

const progressBar = (enabled: boolean, total: number) => {
  if (!enabled || !process.stderr.isTTY) return undefined;
  const bar = new SingleBar({
    stream: process.stderr,
    format: ' {bar} {percentage}% | {value}/{total} entries | {eta_formatted}',
  });
  bar.start(total, 0);
  return bar;
};

const print = (flags: ClientFlags, json: unknown, text: string) =>
  process.stdout.write(`${flags.json ? toJson(json) : text}\n`);

async function* jsonlEntries(path: string): AsyncGenerator<Uint8Array> {
  const enc = new TextEncoder();
  for await (const line of createInterface({
    input: (await import('node:fs')).createReadStream(path),
    crlfDelay: Number.POSITIVE_INFINITY,
  })) {
    yield enc.encode(line);
  }
}

async function readStdin(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

async function countLines(path: string): Promise<number> {
  let n = 0;
  for await (const _ of createInterface({ input: (await import('node:fs')).createReadStream(path) })) n++;
  return n;
}

export type Runner = <F extends ClientFlags>(
  f: (flags: F, ...args: unknown[]) => Promise<number>,
) => (...a: unknown[]) => Promise<void>;

export function addClientCommands(program: Command, run: Runner): void {
  const withClient = (cmd: Command) =>
    cmd
      .option('--server <host:port>', 'vellum server address', process.env.VELLUM_SERVER ?? '127.0.0.1:50051')
      .option(
        '--vkey <vkey-or-file>',
        "the log's verifier key, or a file holding it",
        process.env.VELLUM_VKEY ?? 'data/log.vkey',
      )
      .option('--state <file>', 'trusted checkpoint file: every new checkpoint must be consistent with it')
      .option('--json', 'machine-readable output');

  withClient(
    program
      .command('append')
      .description('append entries; prints each index, leaf hash and verified receipt'),
  )
    .argument('[entries...]', 'entries as text arguments (default: stdin)')
    .option('--file <path>', 'append the bytes of a file as one entry')
    .option('--jsonl <path>', 'bulk: each line of the file is one entry (over AppendStream)')
    .action(
      run(async (flags: ClientFlags & { file?: string; jsonl?: string }, ...rest: unknown[]) => {
        const args = (rest[0] as string[] | undefined) ?? [];
        const client = open(flags);
        try {
          const show = (r: VerifiedAppend) =>
            print(
              flags,
              { index: r.index, leafHash: b64(r.leafHash), receipt: r.receipt },
              `${r.index} ${b64(r.leafHash)}${r.duplicate ? ' (duplicate)' : ''}`,
            );
          if (flags.jsonl) {
            // Printed per AppendStream message, in order, and not kept: a file larger than
            // memory appends in constant space. The bar only when the lines go elsewhere.
            const bar = progressBar(!flags.json && !process.stdout.isTTY, await countLines(flags.jsonl));
            let appended = 0;
            await client.appendMany(jsonlEntries(flags.jsonl), {
              onProgress: (n) => bar?.update(n),
              onReceipts: (rs) => {
                for (const r of rs) show(r);
                appended += rs.length;
              },
            });
            bar?.stop();
            if (!flags.json) process.stderr.write(`appended ${appended} entries, every receipt verified\n`);
          } else {
            const entries =
              flags.file !== undefined
                ? [new Uint8Array(readFileSync(flags.file))]
                : args.length > 0
                  ? args.map((a) => new TextEncoder().encode(a))
                  : [await readStdin()];
            for (const e of entries) show(await client.append(e));
          }
          return EXIT_OK;
        } finally {
          client.close();
        }
      }),
    );

  withClient(program.command('checkpoint').description('print the latest checkpoint, verified')).action(
    run(async (flags) => {
      const client = open(flags);
      try {
        const { checkpoint: c, note } = await client.checkpoint();
        print(
          flags,
          { origin: c.origin, size: c.size, rootHash: b64(c.rootHash), checkpoint: note },
          note.trimEnd(),
        );
        return EXIT_OK;
      } finally {
        client.close();
      }
    }),
  );

  withClient(
    program.command('prove').description('verified inclusion proof of an entry, by index or leaf hash'),
  )
    .argument('[index]', 'entry index')
    .option('--hash <base64>', 'leaf hash instead of an index')
    .option('--size <n>', 'tree size to prove against (default: latest)')
    .action(
      run(async (flags: ClientFlags & { hash?: string; size?: string }, ...rest: unknown[]) => {
        const index = rest[0] as string | undefined;
        if ((index === undefined) === (flags.hash === undefined))
          throw usage('give an INDEX or --hash, not both');
        const leaf = index !== undefined ? parseUint('INDEX', index) : decodeBase64(flags.hash!);
        if (leaf === undefined || (leaf instanceof Uint8Array && leaf.length !== 32))
          throw usage('--hash must be base64 of 32 bytes');
        const client = open(flags);
        try {
          const p = await client.inclusionProof(
            leaf,
            flags.size === undefined ? undefined : parseUint('--size', flags.size),
          );
          print(
            flags,
            {
              index: p.index,
              size: p.size,
              leafHash: b64(p.leafHash),
              proof: p.proof.map(b64),
              checkpoint: p.checkpoint.note,
            },
            `entry ${p.index} is in the tree of size ${p.size} (leaf hash ${b64(p.leafHash)}; ${p.proof.length} proof hashes verified)`,
          );
          return EXIT_OK;
        } finally {
          client.close();
        }
      }),
    );

  withClient(
    program.command('consistency').description('verified proof that the tree of SIZE1 is a prefix of SIZE2'),
  )
    .argument('<size1>')
    .argument('[size2]', 'default: latest checkpoint')
    .action(
      run(async (flags, ...rest: unknown[]) => {
        const size1 = parseUint('SIZE1', rest[0] as string);
        const size2 = rest[1] === undefined ? undefined : parseUint('SIZE2', rest[1] as string);
        const client = open(flags);
        try {
          const c = await client.consistencyProof(size1, size2);
          print(
            flags,
            {
              size1: c.size1,
              size2: c.size2,
              root1: b64(c.root1),
              root2: b64(c.root2),
              proof: c.proof.map(b64),
              checkpoint: c.checkpoint.note,
            },
            `the tree of size ${c.size1} (${b64(c.root1)}) is a prefix of size ${c.size2} (${b64(c.root2)}); ${c.proof.length} proof hashes verified`,
          );
          return EXIT_OK;
        } finally {
          client.close();
        }
      }),
    );

  withClient(program.command('get').description('fetch an entry and verify its inclusion'))
    .argument('<index>')
    .action(
      run(async (flags, ...rest: unknown[]) => {
        const client = open(flags);
        try {
          const e = await client.getEntry(parseUint('INDEX', rest[0] as string));
          if (flags.json)
            print(flags, { index: e.index, leafHash: b64(e.leafHash), entry: b64(e.entry) }, '');
          else process.stdout.write(e.entry);
          return EXIT_OK;
        } finally {
          client.close();
        }
      }),
    );

  withClient(
    program.command('watch').description('follow checkpoints, verifying each is consistent with the last'),
  )
    .option('--count <n>', 'stop after N checkpoints')
    .action(
      run(
        (flags: ClientFlags & { count?: string }) =>
          new Promise<number>((resolve, reject) => {
            const client = open(flags);
            const limit = flags.count === undefined ? undefined : Number(parseUint('--count', flags.count));
            let seen = 0;
            const stop = client.watch(
              ({ checkpoint: c, note }) => {
                print(
                  flags,
                  { origin: c.origin, size: c.size, rootHash: b64(c.rootHash), checkpoint: note },
                  `${c.size} ${b64(c.rootHash)}`,
                );
                if (limit !== undefined && ++seen >= limit) {
                  stop();
                  client.close();
                  resolve(EXIT_OK);
                }
              },
              (e) => {
                client.close();
                reject(e);
              },
            );
            process.once('SIGINT', () => {
              stop();
              client.close();
              resolve(EXIT_OK);
            });
          }),
      ),
    );

  withClient(
    program
      .command('audit')
      .description('download every entry, recompute the tree and check the signed root'),
  ).action(
    run(async (flags) => {
      const client = open(flags);
      try {
        const latest = await client.checkpoint();
        const bar = progressBar(!flags.json, Number(latest.checkpoint.size));
        const r = await client.audit((done) => bar?.update(Number(done)));
        bar?.stop();
        print(
          flags,
          {
            ok: r.ok,
            size: r.size,
            rootHash: b64(r.rootHash),
            ...(r.firstBadIndex !== undefined ? { firstBadIndex: r.firstBadIndex } : {}),
          },
          r.ok
            ? `audit ok: ${r.size} entries rehash to the signed root ${b64(r.rootHash)}`
            : `audit FAILED: entry ${r.firstBadIndex} does not match the signed tree of size ${r.size}`,
        );
        return r.ok ? EXIT_OK : EXIT_VERIFY;
      } finally {
        client.close();
      }
    }),
  );

  program
    .command('verify-receipt')
    .description('verify a receipt offline against an entry and the log key (no server needed)')
    .argument('<receipt>', 'receipt file (c2sp.org/tlog-proof text), or - for stdin')
    .argument('<entry>', 'file holding the entry bytes')
    .requiredOption(
      '--vkey <vkey-or-file>',
      "the log's verifier key, or a file holding it",
      process.env.VELLUM_VKEY,
    )
    .option('--json', 'machine-readable output')
    .action(
      run(async (flags, ...rest: unknown[]) => {
        const receiptPath = rest[0] as string;
        const receipt =
          receiptPath === '-'
            ? new TextDecoder().decode(await readStdin())
            : readFileSync(receiptPath, 'utf8');
        const entry = new Uint8Array(readFileSync(rest[1] as string));
        const leafHash = defaultHasher.leafHash(entry);
        const v = verifyReceipt(receipt, leafHash, [loadVerifier(flags.vkey)]);
        print(
          flags,
          {
            ok: true,
            index: v.receipt.index,
            size: v.checkpoint.size,
            leafHash: b64(leafHash),
            origin: v.checkpoint.origin,
          },
          `receipt ok: entry ${v.receipt.index} is in ${v.checkpoint.origin} at size ${v.checkpoint.size}`,
        );
        return EXIT_OK;
      }),
    );
}

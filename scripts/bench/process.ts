// Child processes for the benchmark: servers run apart from the load generator.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * Spawns a Node process and resolves once its stdout shows a "port":N (as vellum's startup log
 * line does). If it exits first, rejects with the end of its stderr and stdout.
 */
export function spawnWithPort(args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => {
    err = (err + b).slice(-2000);
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (b: Buffer) => {
      out += b;
      const m = /"port":(\d+)/.exec(out);
      if (m) {
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve({ child, port: Number(m[1]) });
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (c) =>
      reject(new Error(`${args.join(' ')} exited ${c} before serving: ${err}${out.slice(-300)}`)),
    );
  });
}

export async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await exited;
}

/** Resident set size of a process, in MB (Linux /proc). */
export function rssMb(pid: number): number {
  return memoryMb(pid).rss;
}

/**
 * A process's resident set, and its two parts: anonymous memory (heap, buffers, native
 * allocations) and file-backed pages mapped into it (LevelDB reads table files through mmap;
 * those pages are page cache the kernel can reclaim, yet they count in RSS).
 */
export function memoryMb(pid: number): { rss: number; anon: number; file: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status);
    return m ? Number(m[1]) / 1024 : Number.NaN;
  };
  return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') };
}

/** CPU time (user + system) of a process so far, in seconds (Linux /proc). */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

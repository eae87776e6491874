// The sequencer (DESIGN §3): appends wait in a bounded pool; one integrator at a time takes
// up to maxBatch of them (or what arrived within maxDelayMs), and every waiting append is
// answered only after its batch is committed. A full pool refuses at once (PUSHBACK).
import { VellumError } from '../error.js';

export interface SequencerOptions {
  /** Most entries per integration batch. */
  maxBatch: number;
  /** How long the first entry of a batch waits for company, in ms (0: next tick). */
  maxDelayMs: number;
  /** Most entries waiting in the pool; beyond it appends fail with PUSHBACK. */
  maxPending: number;
}

export interface PoolItem {
  readonly entry: Uint8Array;
  readonly leafHash: Uint8Array;
}

interface Waiting<R> extends PoolItem {
  readonly key: string;
  readonly promise: Promise<R>;
  resolve(r: R): void;
  reject(e: unknown): void;
}

/** integrate(items) must return one result per item, in order, or throw for all of them. */
export type Integrate<R> = (items: readonly PoolItem[]) => Promise<R[]>;

export class Sequencer<R> {
  readonly #pool: Waiting<R>[] = [];
  /** Pooled and in-flight appends by leaf hash: a repeat joins the first (strong dedup). */
  readonly #byLeaf = new Map<string, Waiting<R>>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<void> | undefined;
  #closed = false;

  constructor(
    private readonly options: SequencerOptions,
    private readonly integrate: Integrate<R>,
  ) {}

  get pending(): number {
    return this.#pool.length;
  }

  submit(entry: Uint8Array, leafHash: Uint8Array): Promise<R> {
    if (this.#closed) return Promise.reject(new VellumError('CLOSED', 'the log is shutting down'));
    const key = String.fromCharCode(...leafHash);
    const same = this.#byLeaf.get(key);
    if (same !== undefined) return same.promise;
    if (this.#pool.length >= this.options.maxPending) {
      return Promise.reject(
        new VellumError('PUSHBACK', `sequencer pool is full (${this.options.maxPending} entries)`),
      );
    }
    let resolve!: (r: R) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<R>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const w: Waiting<R> = { entry, leafHash, key, promise, resolve, reject };
    this.#pool.push(w);
    this.#byLeaf.set(key, w);
    this.#schedule();
    return promise;
  }

  #schedule(): void {
    if (this.#running !== undefined || this.#pool.length === 0) return;
    if (this.#pool.length >= this.options.maxBatch || this.options.maxDelayMs <= 0) {
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#running = this.#run();
      return;
    }
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      if (this.#running === undefined) this.#running = this.#run();
    }, this.options.maxDelayMs);
  }

  async #run(): Promise<void> {
    // Yield once so appends issued in the same tick join this batch.
    await new Promise((r) => setImmediate(r));
    const batch = this.#pool.splice(0, this.options.maxBatch);
    try {
      const results = await this.integrate(batch);
      for (const [i, w] of batch.entries()) w.resolve(results[i]!);
    } catch (e) {
      for (const w of batch) w.reject(e);
    } finally {
      for (const w of batch) this.#byLeaf.delete(w.key);
      this.#running = undefined;
    }
    // While a batch commits, the next one gathers: continue at once if anything waits.
    if (this.#pool.length > 0) this.#running = this.#run();
  }

  /** Refuses new appends, then answers everything already accepted. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      if (this.#running === undefined && this.#pool.length > 0) this.#running = this.#run();
    }
    while (this.#running !== undefined) await this.#running;
  }
}

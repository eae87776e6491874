// The part of Hypercore's API the benchmark uses (the package ships no types).
declare module 'hypercore' {
  export default class Hypercore {
    constructor(storage: string);
    readonly length: number;
    ready(): Promise<void>;
    append(blocks: Buffer | Buffer[]): Promise<{ length: number }>;
    proof(opts: {
      block?: { index: number; nodes: number };
      upgrade?: { start: number; length: number };
    }): Promise<unknown>;
    verifyFullyRemote(proof: unknown): Promise<unknown>;
    close(): Promise<void>;
  }
}

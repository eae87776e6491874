// Many inclusion proofs under one tree (size, root hash), each node hashed once.
//
// A batch of receipts for consecutive entries, or a page of proofs for random ones, repeats
// the same upper nodes in every proof: verifying each alone costs log2(size) hashes per proof,
// which was the larger half of a bulk client's CPU. Here every node a verified proof passed
// through is remembered by its coordinates, so a later proof stops hashing as soon as its own
// node equals the remembered one and each of its further siblings equals the remembered
// sibling; any difference falls back to hashing, and the result is then compared with the
// root exactly as verifyInclusion does. The verdict is the same as verifyInclusion's for every
// proof, and every proof is checked in full (a receipt accepted here verifies alone).
//
// Coordinates follow RFC 9162 §2.1.3.2's walk: after `level` right shifts the running hash is
// MTH(D[fn·2^level : min((fn+1)·2^level, size)]), node (level, fn). Each pair names one range
// of the tree, so a remembered value is the one true hash of that range under the root.
import { VellumError } from '../error.js';
import { bytesEqual, HASH_SIZE, type TreeHasher } from './hash.js';
import { type InclusionInput, verifyInclusion } from './verify.js';

const fail = (message: string) => new VellumError('VERIFICATION_FAILED', message);

/** Proofs for one tree; create one per (size, root hash) and call verify for each proof. */
export class InclusionVerifier {
  /** Per level: node index → hash, only for nodes on paths already verified to the root. */
  readonly #known: Map<number, Uint8Array>[] = [];
  #remembered = 0;
  readonly #sizeNumber: number | undefined;
  /** Scratch: the walk's nodes and siblings, recorded once the proof verified. */
  readonly #path: { level: number; index: number; hash: Uint8Array }[] = [];

  /** maxRemembered bounds the memory: past it the verifier forgets and starts over. */
  constructor(
    readonly size: bigint,
    readonly rootHash: Uint8Array,
    readonly hasher: TreeHasher,
    readonly maxRemembered = 1 << 16,
  ) {
    if (rootHash.length !== HASH_SIZE) throw fail(`rootHash is ${rootHash.length} bytes, want ${HASH_SIZE}`);
    // The walk uses doubles, exact below 2^53; larger trees take the plain path.
    this.#sizeNumber = size <= 9007199254740991n ? Number(size) : undefined;
  }

  #get(level: number, index: number): Uint8Array | undefined {
    return this.#known[level]?.get(index);
  }

  #equals(level: number, index: number, hash: Uint8Array): boolean {
    const h = this.#get(level, index);
    return h !== undefined && bytesEqual(h, hash);
  }

  /** Throws VERIFICATION_FAILED unless the proof shows leafHash at index in this tree. */
  verify(input: Omit<InclusionInput, 'size'>): void {
    const size = this.#sizeNumber;
    const { index, leafHash, proof } = input;
    if (size === undefined || index < 0n || index >= this.size) {
      verifyInclusion({ ...input, size: this.size, rootHash: this.rootHash }, this.hasher);
      return;
    }
    if (leafHash.length !== HASH_SIZE) throw fail(`leafHash is ${leafHash.length} bytes, want ${HASH_SIZE}`);
    const path = this.#path;
    path.length = 0;
    let fn = Number(index);
    let sn = size - 1;
    let level = 0;
    let r = leafHash;
    // True while r equals the remembered node at (level, fn): then nothing above needs hashing
    // as long as the proof's siblings are the remembered ones.
    let known = this.#equals(0, fn, r);
    if (!known) path.push({ level, index: fn, hash: r });
    for (const [i, p] of proof.entries()) {
      if (p.length !== HASH_SIZE) throw fail(`proof[${i}] is ${p.length} bytes, want ${HASH_SIZE}`);
      if (sn === 0) throw fail('inclusion proof is too long');
      let left = true;
      if (fn % 2 === 1 || fn === sn) {
        // A right child, or the last node of its level promoted until it is one (same range).
        while (fn % 2 === 0 && fn !== 0) {
          fn /= 2;
          sn = Math.floor(sn / 2);
          level++;
        }
        left = false;
      }
      const sibling = left ? fn + 1 : fn - 1;
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
      level++;
      const parent = known && this.#equals(level - 1, sibling, p) ? this.#get(level, fn) : undefined;
      if (parent !== undefined) {
        r = parent;
      } else {
        r = left ? this.hasher.nodeHash(r, p) : this.hasher.nodeHash(p, r);
        path.push({ level: level - 1, index: sibling, hash: p }, { level, index: fn, hash: r });
        known = this.#equals(level, fn, r);
      }
    }
    if (sn !== 0) throw fail('inclusion proof is too short');
    if (!bytesEqual(r, this.rootHash)) throw fail(`inclusion proof for index ${index} leads to another root`);
    if (this.#remembered + path.length > this.maxRemembered) {
      this.#known.length = 0;
      this.#remembered = 0;
    }
    for (const n of path) {
      let m = this.#known[n.level];
      if (m === undefined) {
        m = new Map();
        this.#known[n.level] = m;
      }
      if (!m.has(n.index)) {
        m.set(n.index, n.hash);
        this.#remembered++;
      }
    }
  }
}

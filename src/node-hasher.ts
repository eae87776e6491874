// The server's SHA-256: hash-wasm's WebAssembly SHA-256. Measured on this project's 2-core
// machine: 1.91M/s for 65-byte inputs (a node hash) against 947k/s for node:crypto.hash, and
// 968k/s against 874k/s for a 256-byte entry's leaf. It allocates nothing but the 32-byte
// result (on V8's heap): node:crypto.hash returned an off-heap Buffer per hash, which showed up
// as GC time in append and proof profiles. Node-only in practice (the browser default stays
// noble), so it lives apart from src/merkle; the server and the Node client use it.
import { createSHA256 } from 'hash-wasm';
import { type TreeHasher, treeHasher } from './merkle/hash.js';

// One instance: hashing is synchronous, so calls never interleave.
const sha256 = await createSHA256();

export const nodeHasher: TreeHasher = treeHasher((data) => {
  sha256.init();
  sha256.update(data);
  return sha256.digest('binary');
});

// The formats layer: C2SP signed notes, checkpoints, keys, cosignatures, receipts. Pure;
// runs in a browser too.
export * from './checkpoint.js';
export * from './cosignature.js';
export * from './encoding.js';
export * from './keys.js';
export * from './note.js';
export * from './receipt.js';

// The math layer: pure RFC 6962, no I/O, no Node built-ins (runs in a browser too).
export * from './bits.js';
export * from './compact-range.js';
export * from './hash.js';
export * from './inclusion-walk.js';
export * from './proof-plan.js';
export * from './range-proof.js';
export * from './tiles.js';
export * from './verify.js';
export * from './verify-many.js';

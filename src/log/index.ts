export * from './log.js';
export * from './node-hasher.js';
export type { SequencerOptions } from './sequencer.js';

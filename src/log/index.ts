export * from './log.js';
export type { SequencerOptions } from './sequencer.js';

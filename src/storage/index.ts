export * from './level-store.js';
export * from './log-store.js';
export * from './memory-store.js';

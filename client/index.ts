export * from './log-client.js';
export * from './verify.js';

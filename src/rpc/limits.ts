// Caps on everything that comes from the wire (DESIGN §8.5).
export interface RpcLimits {
  /** Largest gRPC message accepted or sent, in bytes. */
  maxMessageBytes: number;
  /** Entries in one AppendStream request. */
  maxEntriesPerMessage: number;
  /** AppendStream requests being appended at once per stream; beyond it the stream is paused. */
  maxMessagesInFlight: number;
  /** Entries one GetEntries call returns. */
  maxEntriesPerCall: number;
  /** Proofs one GetInclusionProofs call returns. */
  maxProofsPerCall: number;
  /** Concurrent WatchCheckpoints streams. */
  maxWatchers: number;
}

export const RPC_DEFAULTS: RpcLimits = {
  maxMessageBytes: 32 * 1024 * 1024,
  maxEntriesPerMessage: 10_000,
  maxMessagesInFlight: 8,
  maxEntriesPerCall: 100_000,
  maxProofsPerCall: 10_000,
  maxWatchers: 1_000,
};

// A raw gRPC client for vellum.v1.LogService over the same descriptor adapter as the server,
// with promise helpers. Errors become VellumError('RPC') carrying the gRPC status code.
import {
  type CallOptions,
  type ChannelCredentials,
  type Client,
  type ClientDuplexStream,
  type ClientReadableStream,
  credentials as grpcCredentials,
  makeGenericClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import { VellumError } from '../src/error.js';
import { LogService } from '../src/gen/vellum/v1/log_pb.js';
import { grpcDefinition } from '../src/rpc/grpc-definition.js';

const LogServiceClient = makeGenericClientConstructor(grpcDefinition(LogService), 'LogService');

export type UnaryMethod =
  | 'append'
  | 'getCheckpoint'
  | 'getInclusionProof'
  | 'getInclusionProofs'
  | 'getConsistencyProof'
  | 'getEntry';

export interface RawClient {
  readonly grpc: Client;
  unary<Res>(method: UnaryMethod, request: unknown, options?: CallOptions): Promise<Res>;
  serverStream<Res>(method: 'getEntries' | 'watchCheckpoints', request: unknown): ClientReadableStream<Res>;
  duplex<Req, Res>(method: 'appendStream'): ClientDuplexStream<Req, Res>;
}

export function rpcError(e: unknown): VellumError {
  const s = e as Partial<ServiceError>;
  return new VellumError(
    'RPC',
    s.details ? `${s.details} (gRPC status ${s.code})` : String(e),
    { status: s.code },
    { cause: e },
  );
}

export function createRawClient(
  address: string,
  creds: ChannelCredentials = grpcCredentials.createInsecure(),
): RawClient {
  const client = new LogServiceClient(address, creds, {
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
    'grpc.max_send_message_length': 64 * 1024 * 1024,
  }) as unknown as Client & Record<string, (...args: unknown[]) => unknown>;
  return {
    grpc: client,
    unary<Res>(method: UnaryMethod, request: unknown, options: CallOptions = {}) {
      return new Promise<Res>((resolve, reject) => {
        client[method]!(request, options, (err: ServiceError | null, res: Res) =>
          err ? reject(rpcError(err)) : resolve(res),
        );
      });
    },
    serverStream<Res>(method: 'getEntries' | 'watchCheckpoints', request: unknown) {
      return client[method]!(request) as ClientReadableStream<Res>;
    },
    duplex<Req, Res>(method: 'appendStream') {
      return client[method]!() as ClientDuplexStream<Req, Res>;
    },
  };
}

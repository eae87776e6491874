// The gRPC server: the log service, the standard health service and server reflection (so
// grpcurl works out of the box), explicit message limits, and a graceful shutdown.
import { toBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { Server, type ServerCredentials } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import { file_vellum_v1_log, LogService } from '../gen/vellum/v1/log_pb.js';
import type { TransparencyLog } from '../log/log.js';
import { grpcDefinition } from './grpc-definition.js';
import { RPC_DEFAULTS, type RpcLimits } from './limits.js';
import { LogServiceHandlers, type ServiceHooks } from './log-service.js';

export interface RpcServerOptions {
  log: TransparencyLog;
  /** host:port; port 0 picks a free one. */
  listen: string;
  credentials: ServerCredentials;
  limits?: Partial<RpcLimits>;
  hooks?: ServiceHooks;
}

export interface RunningServer {
  /** The bound port. */
  readonly port: number;
  /** Stops accepting, answers what was accepted (up to graceMs), then closes the log. */
  shutdown(graceMs?: number): Promise<void>;
}

export async function startRpcServer(options: RpcServerOptions): Promise<RunningServer> {
  const limits = { ...RPC_DEFAULTS, ...options.limits };
  const server = new Server({
    'grpc.max_receive_message_length': limits.maxMessageBytes,
    'grpc.max_send_message_length': limits.maxMessageBytes,
    'grpc.keepalive_permit_without_calls': 1,
  });
  const handlers = new LogServiceHandlers(options.log, limits, options.hooks);
  server.addService(grpcDefinition(LogService), handlers.implementation());

  const health = new HealthImplementation({ '': 'SERVING', [LogService.typeName]: 'SERVING' });
  health.addToServer(server);

  // Reflection reads FileDescriptorProtos: ours from the generated code, health's from its .proto.
  new ReflectionService({
    ...loadSync(healthProtoPath),
    [LogService.typeName]: {
      fileDescriptorProtos: [toBinary(FileDescriptorProtoSchema, file_vellum_v1_log.proto)],
    },
  } as never).addToServer(server);

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(options.listen, options.credentials, (err, p) => (err ? reject(err) : resolve(p))),
  );

  let stopping: Promise<void> | undefined;
  const shutdown = (graceMs = 10_000) => {
    stopping ??= (async () => {
      health.setStatus('', 'NOT_SERVING');
      health.setStatus(LogService.typeName, 'NOT_SERVING');
      handlers.drain();
      // Refuse new appends and answer every accepted one (their batches commit).
      await options.log.drain();
      const graceful = new Promise<void>((r) => server.tryShutdown(() => r()));
      const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref());
      if ((await Promise.race([graceful, timeout])) === 'timeout') server.forceShutdown();
      await options.log.close();
    })();
    return stopping;
  };
  return { port, shutdown };
}

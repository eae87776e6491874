// A plain grpc-js echo server (raw bytes, no protobuf work): the machine's RPC limit, run as its
// own process like the vellum server. Unary calls are answered with a fixed number of bytes
// (argv[2], default: the request back), so the echo moves the same message sizes as Append.
// Prints its port on stdout.
import {
  Server,
  ServerCredentials,
  type ServerDuplexStream,
  type ServerUnaryCall,
  type sendUnaryData,
} from '@grpc/grpc-js';

export const echoDefinition = {
  echo: {
    path: '/bench.Echo/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  },
  echoStream: {
    path: '/bench.Echo/EchoStream',
    requestStream: true,
    responseStream: true,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  },
};

if (process.argv[1]?.endsWith('echo-server.ts')) {
  const server = new Server();
  const answer = process.argv[2] ? Buffer.alloc(Number(process.argv[2]), 7) : undefined;
  server.addService(echoDefinition, {
    echo: (call: ServerUnaryCall<Buffer, Buffer>, cb: sendUnaryData<Buffer>) =>
      cb(null, answer ?? call.request),
    echoStream: (call: ServerDuplexStream<Buffer, Buffer>) => {
      call.on('data', (b: Buffer) => call.write(b));
      call.on('end', () => call.end());
    },
  });
  server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, port) => {
    if (err) throw err;
    process.stdout.write(`${JSON.stringify({ port })}\n`);
  });
}

// Turns a protobuf-es service descriptor into a @grpc/grpc-js service definition, so grpc-js
// carries messages encoded by the generated code (no protobufjs, no runtime .proto loading).
import {
  create,
  type DescMessage,
  type DescService,
  fromBinary,
  isMessage,
  type MessageShape,
  toBinary,
} from '@bufbuild/protobuf';
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';

/**
 * What a request that does not decode becomes. grpc-js would answer a throwing deserializer
 * with INTERNAL; handlers answer this marker with INVALID_ARGUMENT instead.
 */
export class UndecodableMessage {
  constructor(readonly reason: string) {}
}

function codec<D extends DescMessage>(schema: D) {
  return {
    // Accepts a message or a plain init object (as clients write them).
    serialize: (m: MessageShape<D>) => {
      const b = toBinary(schema, isMessage(m, schema) ? m : create(schema, m as never));
      return Buffer.from(b.buffer, b.byteOffset, b.length);
    },
    deserialize: (b: Buffer): MessageShape<D> => {
      try {
        // A plain Uint8Array view: bytes fields then never surface as Buffers.
        return fromBinary(schema, new Uint8Array(b.buffer, b.byteOffset, b.length));
      } catch (e) {
        return new UndecodableMessage((e as Error).message) as unknown as MessageShape<D>;
      }
    },
  };
}

export function grpcDefinition(service: DescService): ServiceDefinition {
  const def: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    const input = codec(method.input);
    const output = codec(method.output);
    def[method.localName] = {
      path: `/${service.typeName}/${method.name}`,
      originalName: method.name,
      requestStream: method.methodKind === 'client_streaming' || method.methodKind === 'bidi_streaming',
      responseStream: method.methodKind === 'server_streaming' || method.methodKind === 'bidi_streaming',
      requestSerialize: input.serialize as (m: unknown) => Buffer,
      requestDeserialize: input.deserialize,
      responseSerialize: output.serialize as (m: unknown) => Buffer,
      responseDeserialize: output.deserialize,
    };
  }
  return def as ServiceDefinition;
}

// The one place domain errors become gRPC statuses (DESIGN §8.7).
import { type ServiceError, status } from '@grpc/grpc-js';
import { type ErrorCode, isVellumError } from '../error.js';

const STATUS: Record<ErrorCode, status> = {
  MALFORMED: status.INVALID_ARGUMENT,
  OUT_OF_RANGE: status.OUT_OF_RANGE,
  NOT_FOUND: status.NOT_FOUND,
  TOO_LARGE: status.RESOURCE_EXHAUSTED,
  PUSHBACK: status.RESOURCE_EXHAUSTED,
  CLOSED: status.UNAVAILABLE,
  STORAGE: status.UNAVAILABLE,
  CORRUPT: status.DATA_LOSS,
  VERIFICATION_FAILED: status.INTERNAL,
  INCONSISTENT: status.INTERNAL,
  CONFIG: status.FAILED_PRECONDITION,
  RPC: status.UNAVAILABLE,
};

export interface RpcError extends Partial<ServiceError> {
  code: status;
  details: string;
}

export function toStatus(e: unknown): RpcError {
  if (isVellumError(e)) return { code: STATUS[e.code], details: e.message };
  return { code: status.INTERNAL, details: 'internal error' };
}

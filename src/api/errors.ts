/**
 * Turning anything thrown while serving a request into `{"error":{"code","message"}}` with the
 * right status. Framework errors (bad JSON, body too large, schema mismatch) are mapped to our
 * codes; anything unexpected is logged and answered as a 500 without internals.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, ERROR_CODES, type ErrorCode } from '../domain/errors.js';

const FRAMEWORK_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'validation_failed',
  FST_ERR_VALIDATION: 'validation_failed',
  FST_ERR_BAD_URL: 'validation_failed',
  FST_ERR_MAX_PARAM_LENGTH: 'validation_failed',
};

/** Error codes meaning the store cannot be reached right now (network, server restarting, busy file). */
const STORE_UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006', 'SQLITE_BUSY']);

export function toApiError(err: FastifyError | Error): ApiError {
  if (err instanceof ApiError) return err;
  const e = err as FastifyError;
  if (e.code && STORE_UNAVAILABLE.has(e.code)) return new ApiError('unavailable', undefined, { 'retry-after': '1' });
  if (e.code === 'FST_ERR_CLOSING' || /Connection terminated|timeout exceeded when trying to connect/i.test(e.message)) {
    return new ApiError('unavailable', undefined, { 'retry-after': '1' });
  }
  if (e.validation) return new ApiError('validation_failed', describeValidation(e));
  const mapped = e.code ? FRAMEWORK_CODES[e.code] : undefined;
  if (mapped === 'payload_too_large') return new ApiError(mapped, `The request body is larger than the limit.`);
  if (mapped === 'validation_failed' && e.code !== 'FST_ERR_VALIDATION') return new ApiError(mapped, 'The request path or its parameters are malformed or too long.');
  if (mapped) return new ApiError(mapped);
  // Prototype-poisoning keys (__proto__, constructor.prototype) are refused by the JSON parser.
  if (err instanceof SyntaxError) return new ApiError('invalid_json', `The request body was refused: ${err.message}`);
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
    const code = (Object.keys(ERROR_CODES) as ErrorCode[]).find((c) => ERROR_CODES[c].status === e.statusCode) ?? 'validation_failed';
    return new ApiError(code, e.message);
  }
  return new ApiError('internal');
}

function describeValidation(e: FastifyError): string {
  const first = e.validation?.[0];
  if (!first) return e.message;
  const where = `${e.validationContext ?? 'request'}${first.instancePath ? first.instancePath.replaceAll('/', '.') : ''}`;
  if (first.keyword === 'required') return `${where} is missing "${String(first.params.missingProperty)}".`;
  if (first.keyword === 'additionalProperties') {
    return `${where} has an unexpected field "${String(first.params.additionalProperty)}".`;
  }
  if (first.keyword === 'enum') {
    const allowed = (first.params.allowedValues as unknown[] | undefined) ?? [];
    return `${where} must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}.`;
  }
  // A pattern means nothing to a caller; the schema's description says what is expected.
  const description = (first as { parentSchema?: { description?: string } }).parentSchema?.description;
  if (first.keyword === 'pattern' && description) return `${where}: ${description}`;
  return `${where} ${first.message ?? 'is invalid'}.`;
}

export function sendError(err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const apiError = toApiError(err);
  if (apiError.code === 'unavailable') request.log.warn({ err }, 'store unavailable; answered 503');
  else if (apiError.status >= 500) request.log.error({ err }, 'request failed');
  return reply
    .code(apiError.status)
    .headers(apiError.headers)
    .send({ error: { code: apiError.code, message: apiError.message } });
}

/**
 * Every error the API can answer with: its code, HTTP status and a default message. Routes and
 * services throw `ApiError`s built from here; the HTTP layer turns them into
 * `{"error":{"code","message"}}`. docs/api.md lists the same table and a test keeps the two in step.
 */

export const ERROR_CODES = {
  invalid_json: { status: 400, message: 'The request body is not valid JSON.' },
  validation_failed: { status: 400, message: 'The request does not match the expected shape.' },
  unknown_event_type: { status: 400, message: 'That event type is not in the catalog.' },
  invalid_url: { status: 400, message: 'The endpoint URL is not acceptable.' },
  blocked_url: { status: 400, message: 'The endpoint URL points at an address deliveries may not reach.' },
  unauthorized: { status: 401, message: 'A valid API key is required: send "Authorization: Bearer <key>".' },
  not_found: { status: 404, message: 'No such resource in this workspace.' },
  route_not_found: { status: 404, message: 'No such route.' },
  conflict: { status: 409, message: 'The request conflicts with the current state.' },
  idempotency_conflict: {
    status: 409,
    message: 'This Idempotency-Key was already used with a different request body.',
  },
  endpoint_disabled: { status: 409, message: 'The endpoint is disabled; enable it first.' },
  payload_too_large: { status: 413, message: 'The request body is too large.' },
  unsupported_media_type: { status: 415, message: 'Send the body as application/json.' },
  rate_limited: { status: 429, message: 'Too many requests; slow down and retry after the indicated time.' },
  internal: { status: 500, message: 'Something went wrong on our side.' },
  unavailable: { status: 503, message: 'The service is shutting down or its store is unreachable.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra HTTP headers to send with the error, e.g. Retry-After. */
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message?: string, headers: Record<string, string> = {}) {
    super(message ?? ERROR_CODES[code].message);
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.headers = headers;
  }
}

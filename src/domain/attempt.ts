/**
 * What one delivery attempt produced, typed by cause so that retry decisions never parse strings.
 * The HTTP client makes these; the delivery state machine consumes them; the store records them.
 */

export type FailureKind =
  /** No answer within the per-attempt deadline. */
  | 'timeout'
  /** DNS failure, refused or reset connection, TLS failure, malformed HTTP. */
  | 'connection'
  /** The receiver answered with a non-2xx status (redirects included: they are never followed). */
  | 'status'
  /** The destination resolved to an address deliveries may not reach. */
  | 'blocked_address';

export interface AttemptResult {
  ok: boolean;
  /** Set when `ok` is false. */
  failure?: FailureKind;
  /** HTTP status, when the receiver answered at all. */
  statusCode?: number;
  responseHeaders?: Record<string, string>;
  /** The response body, cut at the configured cap. */
  responseBody?: string;
  responseBodyTruncated?: boolean;
  /** Plain-words reason for a failure, e.g. "timed out after 15000 ms". */
  error?: string;
  durationMs: number;
  /** A Retry-After the receiver sent with a 429 or 503, in milliseconds. */
  retryAfterMs?: number;
}

/** The request an attempt sends, as recorded in the delivery log. */
export interface AttemptRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

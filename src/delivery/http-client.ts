/**
 * One HTTP attempt to a receiver, turned into an AttemptResult. Never throws: every way a
 * receiver can misbehave (silence, a stalled body, an endless body, a reset, broken HTTP, a
 * redirect) ends as a typed failure with a plain-words reason. The deadline covers the whole
 * exchange, body included, and the body is read only up to the log's cap, so a hostile
 * receiver costs bounded time and memory.
 */
import { request, type Dispatcher } from 'undici';
import type { AttemptRequest, AttemptResult, FailureKind } from '../domain/attempt.js';

export interface HttpClientOptions {
  timeoutMs: number;
  /** Bytes of response body to keep; the rest is not read. */
  bodyLimit: number;
  dispatcher: Dispatcher;
  /** Recognises the connect-time address guard's refusal. */
  isBlockedError?: (err: unknown) => boolean;
}

export type SendAttempt = (req: AttemptRequest) => Promise<AttemptResult>;

export function createHttpClient(options: HttpClientOptions): SendAttempt {
  return async function send(req: AttemptRequest): Promise<AttemptResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const signal = AbortSignal.timeout(options.timeoutMs);
    try {
      const res = await request(req.url, {
        method: 'POST',
        headers: req.headers,
        body: req.body,
        signal,
        dispatcher: options.dispatcher,
      });
      const headers = flattenHeaders(res.headers);
      const { text, truncated } = await readCapped(res.body, options.bodyLimit);
      const ok = res.statusCode >= 200 && res.statusCode < 300;
      const result: AttemptResult = {
        ok,
        statusCode: res.statusCode,
        responseHeaders: headers,
        responseBody: text,
        responseBodyTruncated: truncated,
        durationMs: elapsed(),
      };
      if (!ok) {
        result.failure = 'status';
        result.error = describeStatus(res.statusCode, headers);
        const retryAfter = res.statusCode === 429 || res.statusCode === 503 ? parseRetryAfter(headers['retry-after']) : undefined;
        if (retryAfter !== undefined) result.retryAfterMs = retryAfter;
      }
      return result;
    } catch (err) {
      const { failure, error } = describeError(err, signal, options);
      return { ok: false, failure, error, durationMs: elapsed() };
    }
  };
}

async function readCapped(body: AsyncIterable<Buffer> & { destroy(): unknown }, limit: number) {
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  for await (const chunk of body) {
    const room = limit - size;
    if (chunk.length >= room) {
      if (room > 0) chunks.push(chunk.subarray(0, room));
      size = limit;
      truncated = chunk.length > room;
      if (truncated) break;
      continue;
    }
    chunks.push(chunk);
    size += chunk.length;
  }
  // Leaving the loop early (or a cap of 0) must not leave the socket reading: destroy drops the rest.
  if (truncated) body.destroy();
  return { text: Buffer.concat(chunks).toString('utf8'), truncated };
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

function describeStatus(status: number, headers: Record<string, string>): string {
  if (status >= 300 && status < 400) {
    const to = headers.location ? ` to ${headers.location.slice(0, 200)}` : '';
    return `The receiver answered ${status}, a redirect${to}; redirects are not followed, so point the endpoint at the final URL.`;
  }
  return `The receiver answered ${status}; only 2xx counts as delivered.`;
}

/** Retry-After as delay-seconds or an HTTP date, in milliseconds; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const CONNECTION_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'The connection was refused: nothing is listening at that address and port.',
  ECONNRESET: 'The receiver reset the connection.',
  EPIPE: 'The receiver closed the connection while the request was being sent.',
  ENOTFOUND: 'The host name could not be resolved.',
  EAI_AGAIN: 'The host name could not be resolved (temporary DNS failure).',
  EHOSTUNREACH: 'The host is unreachable.',
  ENETUNREACH: 'The network is unreachable.',
  UND_ERR_SOCKET: 'The receiver closed the connection before answering completely.',
  UND_ERR_CONNECT_TIMEOUT: 'Connecting to the receiver timed out.',
  UND_ERR_CLOSED: 'The connection was closed.',
  CERT_HAS_EXPIRED: "The receiver's TLS certificate has expired.",
  DEPTH_ZERO_SELF_SIGNED_CERT: "The receiver's TLS certificate is self-signed.",
  ERR_TLS_CERT_ALTNAME_INVALID: "The receiver's TLS certificate does not match its host name.",
};

function describeError(err: unknown, signal: AbortSignal, options: HttpClientOptions): { failure: FailureKind; error: string } {
  if (signal.aborted) {
    return { failure: 'timeout', error: `No complete answer within ${options.timeoutMs} ms; the attempt was abandoned.` };
  }
  if (options.isBlockedError?.(err)) {
    return { failure: 'blocked_address', error: messageOf(err) };
  }
  // undici wraps socket errors; the deepest code says most (ECONNRESET under UND_ERR_SOCKET).
  const codes = errorCodes(err).reverse();
  // undici's parser errors carry their HPE_ code in some versions and only their name in others.
  if (codes.some((c) => c.startsWith('HPE_')) || (err as Error).name === 'HTTPParserError') {
    return { failure: 'connection', error: `The receiver's answer is not valid HTTP: ${messageOf(err)}` };
  }
  const known = codes.find((c) => c in CONNECTION_ERRORS);
  return { failure: 'connection', error: known ? CONNECTION_ERRORS[known]! : `The request failed: ${messageOf(err)}` };
}

/** Error codes along the cause chain, outermost first. */
function errorCodes(err: unknown): string[] {
  const codes: string[] = [];
  let e = err as { code?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; e && depth < 5; depth++, e = e.cause as typeof e) {
    if (typeof e.code === 'string') codes.push(e.code);
  }
  return codes;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

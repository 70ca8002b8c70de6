/**
 * Mapping between PostgreSQL rows (snake_case, BOOLEAN, JSON kept as TEXT) and store records, and
 * multi-row inserts built on unnest() so a batch is one statement whatever its size.
 */
import type { QueryConfig } from 'pg';
import type { ApiKeyRecord, AttemptRecord, ClaimedDelivery, DeliveryRecord, EndpointRecord, EventRecord } from '../types.js';

type Row = Record<string, unknown>;

/**
 * BIGINT and count(*) arrive as strings unless the pool's type parser converted them; accept both
 * so the mappers never depend on that setup. Unix ms stay far below 2^53.
 */
export const int = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
export const intOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : int(v));
export const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : (v as string));

/**
 * PostgreSQL text cannot hold U+0000, and a receiver may answer with one (a binary body). Left in,
 * the insert would fail and the attempt could never be recorded, so the delivery would be retried
 * forever; replace it instead. Payloads never need this: they are serialised JSON.
 */
export const pgText = (s: string): string => (s.includes('\u0000') ? s.replaceAll('\u0000', '\uFFFD') : s);
const pgTextOrNull = (s: string | null): string | null => (s === null ? null : pgText(s));

export const toApiKey = (r: Row): ApiKeyRecord => ({
  id: r.id as string,
  workspaceId: r.workspace_id as string,
  prefix: r.prefix as string,
  hash: r.hash as string,
  createdAt: int(r.created_at),
  revokedAt: intOrNull(r.revoked_at),
});

export const toEndpoint = (r: Row): EndpointRecord => ({
  id: r.id as string,
  workspaceId: r.workspace_id as string,
  url: r.url as string,
  description: r.description as string,
  events: JSON.parse(r.events as string) as string[],
  status: r.status as EndpointRecord['status'],
  disabledReason: strOrNull(r.disabled_reason),
  secret: r.secret as string,
  previousSecret: strOrNull(r.previous_secret),
  previousSecretExpiresAt: intOrNull(r.previous_secret_expires_at),
  maxConcurrency: intOrNull(r.max_concurrency),
  rateLimit: intOrNull(r.rate_limit),
  consecutiveFailures: int(r.consecutive_failures),
  failingSince: intOrNull(r.failing_since),
  createdAt: int(r.created_at),
  updatedAt: int(r.updated_at),
});

export const toEvent = (r: Row): EventRecord => ({
  id: r.id as string,
  workspaceId: r.workspace_id as string,
  type: r.type as string,
  payload: r.payload as string,
  createdAt: int(r.created_at),
  fanout: int(r.fanout),
  isTest: r.is_test === true,
});

export const toDelivery = (r: Row): DeliveryRecord => ({
  id: r.id as string,
  workspaceId: r.workspace_id as string,
  eventId: r.event_id as string,
  endpointId: r.endpoint_id as string,
  eventType: r.event_type as string,
  status: r.status as DeliveryRecord['status'],
  attempts: int(r.attempts),
  maxAttempts: int(r.max_attempts),
  nextAttemptAt: intOrNull(r.next_attempt_at),
  lastStatusCode: intOrNull(r.last_status_code),
  lastError: strOrNull(r.last_error),
  isTest: r.is_test === true,
  createdAt: int(r.created_at),
  updatedAt: int(r.updated_at),
});

export const toAttempt = (r: Row): AttemptRecord => ({
  id: r.id as string,
  deliveryId: r.delivery_id as string,
  workspaceId: r.workspace_id as string,
  endpointId: r.endpoint_id as string,
  number: int(r.number),
  startedAt: int(r.started_at),
  durationMs: int(r.duration_ms),
  ok: r.ok === true,
  failure: (r.failure as AttemptRecord['failure']) ?? null,
  requestUrl: r.request_url as string,
  requestHeaders: JSON.parse(r.request_headers as string) as Record<string, string>,
  responseStatus: intOrNull(r.response_status),
  responseHeaders: r.response_headers ? (JSON.parse(r.response_headers as string) as Record<string, string>) : null,
  responseBody: strOrNull(r.response_body),
  responseBodyTruncated: r.response_body_truncated === true,
  error: strOrNull(r.error),
});

export const toClaimed = (r: Row): ClaimedDelivery => ({
  deliveryId: r.id as string,
  workspaceId: r.workspace_id as string,
  eventId: r.event_id as string,
  payload: r.payload as string,
  endpointId: r.endpoint_id as string,
  url: r.url as string,
  secret: r.secret as string,
  previousSecret: strOrNull(r.previous_secret),
  previousSecretExpiresAt: intOrNull(r.previous_secret_expires_at),
  attemptNumber: int(r.attempts) + 1,
  maxAttempts: int(r.max_attempts),
  maxConcurrency: intOrNull(r.max_concurrency),
  rateLimit: intOrNull(r.rate_limit),
});


/** Column name, PostgreSQL array element type, and how to read the value from a record. */
type Column<T> = readonly [name: string, type: string, get: (record: T) => unknown];

/** One INSERT for any number of rows: one array parameter per column, zipped by unnest(). */
export function bulkInsert<T>(table: string, columns: readonly Column<T>[], records: readonly T[]): QueryConfig {
  return {
    text: `INSERT INTO ${table} (${columns.map((c) => c[0]).join(', ')})
           SELECT * FROM unnest(${columns.map((c, i) => `$${i + 1}::${c[1]}[]`).join(', ')})`,
    values: columns.map(([, , get]) => records.map(get)),
  };
}

export const DELIVERY_COLUMNS: readonly Column<DeliveryRecord>[] = [
  ['id', 'text', (d) => d.id],
  ['workspace_id', 'text', (d) => d.workspaceId],
  ['event_id', 'text', (d) => d.eventId],
  ['endpoint_id', 'text', (d) => d.endpointId],
  ['event_type', 'text', (d) => d.eventType],
  ['status', 'text', (d) => d.status],
  ['attempts', 'integer', (d) => d.attempts],
  ['max_attempts', 'integer', (d) => d.maxAttempts],
  ['next_attempt_at', 'bigint', (d) => d.nextAttemptAt],
  ['last_status_code', 'integer', (d) => d.lastStatusCode],
  ['last_error', 'text', (d) => pgTextOrNull(d.lastError)],
  ['is_test', 'boolean', (d) => d.isTest],
  ['created_at', 'bigint', (d) => d.createdAt],
  ['updated_at', 'bigint', (d) => d.updatedAt],
];

export const ATTEMPT_COLUMNS: readonly Column<AttemptRecord>[] = [
  ['id', 'text', (a) => a.id],
  ['delivery_id', 'text', (a) => a.deliveryId],
  ['workspace_id', 'text', (a) => a.workspaceId],
  ['endpoint_id', 'text', (a) => a.endpointId],
  ['number', 'integer', (a) => a.number],
  ['started_at', 'bigint', (a) => Math.round(a.startedAt)],
  // A duration measured with performance.now() has a fraction, which an INTEGER column refuses.
  ['duration_ms', 'integer', (a) => Math.round(a.durationMs)],
  ['ok', 'boolean', (a) => a.ok],
  ['failure', 'text', (a) => a.failure],
  ['request_url', 'text', (a) => a.requestUrl],
  // JSON.stringify escapes U+0000, so serialised headers need no pgText().
  ['request_headers', 'text', (a) => JSON.stringify(a.requestHeaders)],
  ['response_status', 'integer', (a) => a.responseStatus],
  ['response_headers', 'text', (a) => (a.responseHeaders ? JSON.stringify(a.responseHeaders) : null)],
  ['response_body', 'text', (a) => pgTextOrNull(a.responseBody)],
  ['response_body_truncated', 'boolean', (a) => a.responseBodyTruncated],
  ['error', 'text', (a) => pgTextOrNull(a.error)],
];

/** Parameters $1…$9 of an event insert, in the column order of EVENT_INSERT_COLUMNS. */
export const EVENT_INSERT_COLUMNS = 'id, workspace_id, type, payload, created_at, fanout, is_test, idempotency_key, request_hash';
export const eventParams = (e: EventRecord, idempotencyKey: string | null, requestHash: string | null): unknown[] => [
  e.id, e.workspaceId, e.type, e.payload, e.createdAt, e.fanout, e.isTest, idempotencyKey, requestHash,
];

/**
 * Multi-row inserts for PostgreSQL built on unnest(), so a batch is one statement whatever its size, and the
 * text clean-up PostgreSQL needs. Reading rows is shared by every backend (../rows.ts).
 */
import type { QueryConfig } from 'pg';
import type { AttemptRecord, DeliveryRecord, EventRecord } from '../types.js';

export { int, intOrNull, strOrNull, toApiKey, toAttempt, toClaimed, toDelivery, toEndpoint, toEvent } from '../rows.js';

/**
 * PostgreSQL text cannot hold U+0000, and a receiver may answer with one (a binary body). Left in,
 * the insert would fail and the attempt could never be recorded, so the delivery would be retried
 * forever; replace it instead. Payloads never need this: they are serialised JSON.
 */
export const pgText = (s: string): string => (s.includes('\u0000') ? s.replaceAll('\u0000', '\uFFFD') : s);
const pgTextOrNull = (s: string | null): string | null => (s === null ? null : pgText(s));



/** Column name, PostgreSQL array element type, and how to read the value from a record. */
type Column<T> = readonly [name: string, type: string, get: (record: T) => unknown];

/**
 * One INSERT for any number of rows: one array parameter per column, zipped by unnest(). The rows
 * are named `u` with the table's column names, so a caller may append a WHERE clause.
 */
export function bulkInsert<T>(table: string, columns: readonly Column<T>[], records: readonly T[]): QueryConfig & { values: unknown[] } {
  const names = columns.map((c) => c[0]).join(', ');
  return {
    text: `INSERT INTO ${table} (${names})
           SELECT * FROM unnest(${columns.map((c, i) => `$${i + 1}::${c[1]}[]`).join(', ')}) AS u(${names})`,
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
  ['lease_owner', 'text', (d) => d.lease?.owner ?? null],
  ['lease_until', 'bigint', (d) => d.lease?.until ?? null],
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

/** An event row as a publish writes it: the record, plus the key and hash it was published with. */
export interface EventRow {
  event: EventRecord;
  idempotencyKey?: string | null;
  requestHash?: string | null;
}

export const EVENT_COLUMNS: readonly Column<EventRow>[] = [
  ['id', 'text', (r) => r.event.id],
  ['workspace_id', 'text', (r) => r.event.workspaceId],
  ['type', 'text', (r) => r.event.type],
  ['payload', 'text', (r) => r.event.payload],
  ['created_at', 'bigint', (r) => r.event.createdAt],
  ['fanout', 'integer', (r) => r.event.fanout],
  ['is_test', 'boolean', (r) => r.event.isTest],
  ['idempotency_key', 'text', (r) => r.idempotencyKey ?? null],
  ['request_hash', 'text', (r) => r.requestHash ?? null],
];

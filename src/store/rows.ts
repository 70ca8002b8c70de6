/**
 * Store rows to records, for every backend: the column names are the same everywhere; only how
 * values arrive differs (BIGINT as a string from pg, booleans as 0/1 from SQLite), and the
 * readers below accept both.
 */
import type { ApiKeyRecord, AttemptRecord, ClaimedDelivery, DeliveryRecord, EndpointRecord, EventRecord } from './types.js';

export type Row = Record<string, unknown>;

/** Unix ms and counts stay far below 2^53, so Number() is exact. */
export const int = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
export const intOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : int(v));
export const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : (v as string));
const bool = (v: unknown): boolean => v === true || v === 1;

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
  isTest: bool(r.is_test),
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
  isTest: bool(r.is_test),
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
  ok: bool(r.ok),
  failure: (r.failure as AttemptRecord['failure']) ?? null,
  requestUrl: r.request_url as string,
  requestHeaders: JSON.parse(r.request_headers as string) as Record<string, string>,
  responseStatus: intOrNull(r.response_status),
  responseHeaders: r.response_headers ? (JSON.parse(r.response_headers as string) as Record<string, string>) : null,
  responseBody: strOrNull(r.response_body),
  responseBodyTruncated: bool(r.response_body_truncated),
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

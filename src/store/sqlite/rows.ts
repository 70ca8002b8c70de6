/** Mapping between SQLite rows (snake_case, 0/1 booleans, JSON text) and store records. */
import type { ApiKeyRecord, AttemptRecord, DeliveryRecord, EndpointRecord, EventRecord } from '../types.js';

type Row = Record<string, unknown>;

export const toApiKey = (r: Row): ApiKeyRecord => ({
  id: r.id as string,
  workspaceId: r.workspace_id as string,
  prefix: r.prefix as string,
  hash: r.hash as string,
  createdAt: r.created_at as number,
  revokedAt: (r.revoked_at as number | null) ?? null,
});

export const toEndpoint = (r: Row): EndpointRecord => ({
  id: r.id as string,
  workspaceId: r.workspace_id as string,
  url: r.url as string,
  description: r.description as string,
  events: JSON.parse(r.events as string) as string[],
  status: r.status as EndpointRecord['status'],
  disabledReason: (r.disabled_reason as string | null) ?? null,
  secret: r.secret as string,
  previousSecret: (r.previous_secret as string | null) ?? null,
  previousSecretExpiresAt: (r.previous_secret_expires_at as number | null) ?? null,
  maxConcurrency: (r.max_concurrency as number | null) ?? null,
  rateLimit: (r.rate_limit as number | null) ?? null,
  consecutiveFailures: r.consecutive_failures as number,
  failingSince: (r.failing_since as number | null) ?? null,
  createdAt: r.created_at as number,
  updatedAt: r.updated_at as number,
});

export const toEvent = (r: Row): EventRecord => ({
  id: r.id as string,
  workspaceId: r.workspace_id as string,
  type: r.type as string,
  payload: r.payload as string,
  createdAt: r.created_at as number,
  fanout: r.fanout as number,
  isTest: r.is_test === 1,
});

export const toDelivery = (r: Row): DeliveryRecord => ({
  id: r.id as string,
  workspaceId: r.workspace_id as string,
  eventId: r.event_id as string,
  endpointId: r.endpoint_id as string,
  eventType: r.event_type as string,
  status: r.status as DeliveryRecord['status'],
  attempts: r.attempts as number,
  maxAttempts: r.max_attempts as number,
  nextAttemptAt: (r.next_attempt_at as number | null) ?? null,
  lastStatusCode: (r.last_status_code as number | null) ?? null,
  lastError: (r.last_error as string | null) ?? null,
  isTest: r.is_test === 1,
  createdAt: r.created_at as number,
  updatedAt: r.updated_at as number,
});

export const toAttempt = (r: Row): AttemptRecord => ({
  id: r.id as string,
  deliveryId: r.delivery_id as string,
  workspaceId: r.workspace_id as string,
  endpointId: r.endpoint_id as string,
  number: r.number as number,
  startedAt: r.started_at as number,
  durationMs: r.duration_ms as number,
  ok: r.ok === 1,
  failure: (r.failure as AttemptRecord['failure']) ?? null,
  requestUrl: r.request_url as string,
  requestHeaders: JSON.parse(r.request_headers as string) as Record<string, string>,
  responseStatus: (r.response_status as number | null) ?? null,
  responseHeaders: r.response_headers ? (JSON.parse(r.response_headers as string) as Record<string, string>) : null,
  responseBody: (r.response_body as string | null) ?? null,
  responseBodyTruncated: r.response_body_truncated === 1,
  error: (r.error as string | null) ?? null,
});

/** Parameters for inserting a delivery row. */
export const deliveryParams = (d: DeliveryRecord) => ({
  id: d.id,
  workspace_id: d.workspaceId,
  event_id: d.eventId,
  endpoint_id: d.endpointId,
  event_type: d.eventType,
  status: d.status,
  attempts: d.attempts,
  max_attempts: d.maxAttempts,
  next_attempt_at: d.nextAttemptAt,
  last_status_code: d.lastStatusCode,
  last_error: d.lastError,
  is_test: d.isTest ? 1 : 0,
  created_at: d.createdAt,
  updated_at: d.updatedAt,
});

export const attemptParams = (a: AttemptRecord) => ({
  id: a.id,
  delivery_id: a.deliveryId,
  workspace_id: a.workspaceId,
  endpoint_id: a.endpointId,
  number: a.number,
  started_at: a.startedAt,
  duration_ms: a.durationMs,
  ok: a.ok ? 1 : 0,
  failure: a.failure,
  request_url: a.requestUrl,
  request_headers: JSON.stringify(a.requestHeaders),
  response_status: a.responseStatus,
  response_headers: a.responseHeaders ? JSON.stringify(a.responseHeaders) : null,
  response_body: a.responseBody,
  response_body_truncated: a.responseBodyTruncated ? 1 : 0,
  error: a.error,
});

/** Named parameters for SQLite inserts (0/1 booleans, JSON as text); reading rows is shared (../rows.ts). */
import type { AttemptRecord, DeliveryRecord } from '../types.js';

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
  lease_owner: d.lease?.owner ?? null,
  lease_until: d.lease?.until ?? null,
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

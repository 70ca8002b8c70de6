/**
 * How records look on the wire: snake_case, ISO 8601 times, and never a secret except where a
 * route exists to show it.
 */
import type { AttemptResult } from '../domain/attempt.js';
import type { AttemptRecord, DeliveryRecord, EndpointRecord, EndpointSummary, EventRecord } from '../store/types.js';

export const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function webhookJson(e: EndpointRecord) {
  return {
    id: e.id,
    url: e.url,
    events: e.events,
    description: e.description,
    status: e.status,
    disabled_reason: e.disabledReason,
    max_concurrency: e.maxConcurrency,
    rate_limit: e.rateLimit,
    failing_since: iso(e.failingSince),
    consecutive_failures: e.consecutiveFailures,
    created_at: iso(e.createdAt)!,
    updated_at: iso(e.updatedAt)!,
  };
}

export function webhookStatsJson(s: EndpointSummary | undefined) {
  return {
    attempts_24h: s?.attempts ?? 0,
    succeeded_24h: s?.succeeded ?? 0,
    success_rate_24h: s && s.attempts > 0 ? s.succeeded / s.attempts : null,
    last_attempt_at: iso(s?.lastAttemptAt ?? null),
    last_attempt_ok: s?.lastAttemptOk ?? null,
  };
}

export function eventJson(e: EventRecord) {
  return { id: e.id, event: e.type, deliveries: e.fanout, created_at: iso(e.createdAt)!, test: e.isTest };
}

export function deliveryJson(d: DeliveryRecord) {
  return {
    id: d.id,
    event_id: d.eventId,
    webhook_id: d.endpointId,
    event: d.eventType,
    status: d.status,
    attempts: d.attempts,
    max_attempts: d.maxAttempts,
    next_attempt_at: iso(d.nextAttemptAt),
    last_status_code: d.lastStatusCode,
    last_error: d.lastError,
    test: d.isTest,
    created_at: iso(d.createdAt)!,
    updated_at: iso(d.updatedAt)!,
  };
}

export function attemptJson(a: AttemptRecord, body: string | null) {
  return {
    id: a.id,
    number: a.number,
    started_at: iso(a.startedAt)!,
    duration_ms: a.durationMs,
    ok: a.ok,
    failure: a.failure,
    error: a.error,
    request: { url: a.requestUrl, headers: a.requestHeaders, body },
    response:
      a.responseStatus === null
        ? null
        : { status: a.responseStatus, headers: a.responseHeaders ?? {}, body: a.responseBody ?? '', body_truncated: a.responseBodyTruncated },
  };
}

export function testResultJson(deliveryId: string, eventId: string, r: AttemptResult) {
  return {
    delivery_id: deliveryId,
    event_id: eventId,
    ok: r.ok,
    status_code: r.statusCode ?? null,
    duration_ms: r.durationMs,
    response_headers: r.responseHeaders ?? null,
    response_body: r.responseBody ?? null,
    error: r.error ?? null,
    failure: r.failure ?? null,
  };
}

/** Webhook settings as the API names them, to the services' names. */
export function webhookInput<T extends { max_concurrency?: number | null; rate_limit?: number | null }>(body: T) {
  const { max_concurrency, rate_limit, ...rest } = body;
  return { ...rest, maxConcurrency: max_concurrency, rateLimit: rate_limit };
}

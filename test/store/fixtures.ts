/** Records for store tests: valid by default, each field overridable, times explicit. */
import { newId } from '../../src/domain/ids.js';
import type {
  AttemptCompletion,
  AttemptRecord,
  AutoDisablePolicy,
  ClaimRoom,
  DeliveryRecord,
  EndpointRecord,
  EventRecord,
  Store,
} from '../../src/store/types.js';

/** A fixed "now" for tests that pass times explicitly (2023-11-14). */
export const T0 = 1_700_000_000_000;
/** Later than any time a test uses: claiming at this time takes every claimable delivery. */
export const FAR_FUTURE = 5_000_000_000_000_000;

/** Claims unlimited per endpoint, for tests about something else. */
export const ANY_ROOM: ClaimRoom = { defaultPerEndpoint: 1000, room: {} };
/** An auto-disable policy that never fires, for tests about something else. */
export const NO_AUTO_DISABLE: AutoDisablePolicy = { failingForMs: FAR_FUTURE, minFailedDeliveries: 1_000_000 };

export async function newWorkspace(store: Store, name = 'Test workspace'): Promise<string> {
  const id = newId('workspace');
  await store.createWorkspace(id, name, T0);
  return id;
}

export function endpointRecord(workspaceId: string, over: Partial<EndpointRecord> = {}): EndpointRecord {
  const at = over.createdAt ?? T0;
  return {
    id: newId('endpoint', at),
    workspaceId,
    url: 'https://receiver.example/hooks',
    description: 'test endpoint',
    events: ['*'],
    status: 'enabled',
    disabledReason: null,
    secret: 'whsec_current',
    previousSecret: null,
    previousSecretExpiresAt: null,
    maxConcurrency: null,
    rateLimit: null,
    consecutiveFailures: 0,
    failingSince: null,
    createdAt: at,
    updatedAt: at,
    ...over,
  };
}

export async function newEndpoint(store: Store, workspaceId: string, over: Partial<EndpointRecord> = {}): Promise<EndpointRecord> {
  const endpoint = endpointRecord(workspaceId, over);
  await store.insertEndpoint(endpoint);
  return endpoint;
}

export function eventRecord(workspaceId: string, over: Partial<EventRecord> = {}): EventRecord {
  const at = over.createdAt ?? T0;
  return {
    id: newId('event', at),
    workspaceId,
    type: 'post_published',
    payload: '{"event":"post_published","agent_id":"sf_042"}',
    createdAt: at,
    fanout: 1,
    isTest: false,
    ...over,
  };
}

export function deliveryRecord(event: EventRecord, endpointId: string, over: Partial<DeliveryRecord> = {}): DeliveryRecord {
  const at = over.createdAt ?? event.createdAt;
  return {
    id: newId('delivery', at),
    workspaceId: event.workspaceId,
    eventId: event.id,
    endpointId,
    eventType: event.type,
    status: 'pending',
    attempts: 0,
    maxAttempts: 3,
    nextAttemptAt: at,
    lastStatusCode: null,
    lastError: null,
    isTest: event.isTest,
    createdAt: at,
    updatedAt: at,
    ...over,
  };
}

type DeliveryRef = Pick<DeliveryRecord, 'id' | 'workspaceId' | 'endpointId'>;

export function attemptRecord(delivery: DeliveryRef, over: Partial<AttemptRecord> = {}): AttemptRecord {
  const at = over.startedAt ?? T0;
  return {
    id: newId('attempt', at),
    deliveryId: delivery.id,
    workspaceId: delivery.workspaceId,
    endpointId: delivery.endpointId,
    number: 1,
    startedAt: at,
    durationMs: 120,
    ok: true,
    failure: null,
    requestUrl: 'https://receiver.example/hooks',
    requestHeaders: { 'content-type': 'application/json', 'webhook-id': 'evt_x' },
    responseStatus: 200,
    responseHeaders: { 'content-type': 'text/plain' },
    responseBody: 'ok',
    responseBodyTruncated: false,
    error: null,
    ...over,
  };
}

export const succeeded = (delivery: DeliveryRef, over: Partial<AttemptRecord> = {}): AttemptCompletion => ({
  attempt: attemptRecord(delivery, over),
  next: { status: 'succeeded' },
});

export const failedAttempt = (delivery: DeliveryRef, over: Partial<AttemptRecord> = {}): AttemptRecord =>
  attemptRecord(delivery, { ok: false, failure: 'status', responseStatus: 500, responseBody: 'boom', error: 'HTTP 500', ...over });

/** Publishes one event with a delivery to each endpoint (each field of the deliveries overridable). */
export async function publishTo(
  store: Store,
  workspaceId: string,
  endpointIds: string[],
  over: { event?: Partial<EventRecord>; delivery?: Partial<DeliveryRecord> } = {},
): Promise<{ event: EventRecord; deliveries: DeliveryRecord[] }> {
  const event = eventRecord(workspaceId, { fanout: endpointIds.length, ...over.event });
  const deliveries = endpointIds.map((id) => deliveryRecord(event, id, over.delivery));
  const outcome = await store.publish({ event, deliveries });
  if (!outcome.created) throw new Error('publish without a key must create');
  return { event, deliveries };
}

/**
 * The queue is shared by every test on a store: settle whatever earlier tests left claimable, so a
 * queue test sees only its own deliveries.
 */
export async function drainQueue(store: Store): Promise<void> {
  for (;;) {
    const claimed = await store.claimDue('drain', FAR_FUTURE, 500, 1, ANY_ROOM);
    if (claimed.length === 0) return;
    await store.completeAttempts(
      'drain',
      claimed.map((c) => succeeded({ id: c.deliveryId, workspaceId: c.workspaceId, endpointId: c.endpointId }, { number: c.attemptNumber, startedAt: FAR_FUTURE })),
      FAR_FUTURE,
      NO_AUTO_DISABLE,
    );
  }
}

export const sortById = <T extends { id: string }>(records: T[]): T[] => [...records].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

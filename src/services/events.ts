/**
 * Publishing: validate, store once, fan out to every subscribed, enabled endpoint. Where a
 * delivery worker runs on the same node, it may take the fresh deliveries at once (a hand-off):
 * they are stored already leased to it, in the same transaction as the event, so a crash after
 * the commit leaves them to be claimed again when the lease runs out, like any claimed delivery.
 */
import { createHash } from 'node:crypto';
import { isSubscribed } from '../domain/endpoint.js';
import { ApiError } from '../domain/errors.js';
import { prepareEvent } from '../domain/event.js';
import { newId } from '../domain/ids.js';
import type { ClaimedDelivery, DeliveryRecord, EndpointRecord, EventRecord } from '../store/types.js';
import type { ServiceContext } from './context.js';

export interface PublishResult {
  event: EventRecord;
  /** False when an Idempotency-Key matched an earlier publish. */
  created: boolean;
}

export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/** What a hand-off needs to know of an endpoint to decide whether it has room for it. */
export interface HandoffTarget {
  endpointId: string;
  maxConcurrency: number | null;
  rateLimit: number | null;
}

/** A worker on this node that can start fresh deliveries without claiming them. */
export interface DeliveryHandoff {
  /** Takes slots for some of these (one delivery each), or undefined when it takes none. */
  reserve(targets: readonly HandoffTarget[], now: number): HandoffReservation | undefined;
}

export interface HandoffReservation {
  /** The lease the taken deliveries are written with. */
  owner: string;
  leaseUntil: number;
  /** Per target, whether its delivery was taken. */
  taken: readonly boolean[];
  /** The publish committed: attempt these, and give back the slot of any other target taken. */
  start(claimed: ClaimedDelivery[]): void;
  /** The deliveries were not written (a failure, or an idempotent replay): free the slots. */
  cancel(): void;
}

export async function publishEvent(
  ctx: ServiceContext,
  workspaceId: string,
  body: unknown,
  idempotencyKey?: string,
): Promise<PublishResult> {
  if (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > MAX_IDEMPOTENCY_KEY_LENGTH)) {
    throw new ApiError('validation_failed', `Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters.`);
  }
  const now = ctx.now();
  const prepared = prepareEvent(body, new Date(now));
  const endpoints = (await ctx.store.listEndpoints(workspaceId)).filter(
    (e) => e.status === 'enabled' && isSubscribed(e.events, prepared.type),
  );
  const event: EventRecord = {
    id: newId('event', now),
    workspaceId,
    type: prepared.type,
    payload: prepared.payload,
    createdAt: now,
    fanout: endpoints.length,
    isTest: false,
  };
  const reservation = endpoints.length > 0 ? ctx.handoff?.reserve(endpoints.map(handoffTarget), now) : undefined;
  const deliveries: DeliveryRecord[] = endpoints.map((endpoint, i) => {
    const lease = reservation?.taken[i] ? { owner: reservation.owner, until: reservation.leaseUntil } : undefined;
    return {
      id: newId('delivery', now),
      workspaceId,
      eventId: event.id,
      endpointId: endpoint.id,
      eventType: event.type,
      status: 'pending',
      attempts: 0,
      maxAttempts: ctx.policy.maxAttempts,
      // A leased delivery is due again when its lease ends, as if a claim had taken it.
      nextAttemptAt: lease ? lease.until : now,
      lastStatusCode: null,
      lastError: null,
      isTest: false,
      createdAt: now,
      updatedAt: now,
      lease,
    };
  });
  // The hash covers the body as the producer meant it, so a retried request matches even when
  // the service filled in the timestamp the first time.
  const requestHash = idempotencyKey === undefined ? undefined : createHash('sha256').update(JSON.stringify(body)).digest('hex');
  let outcome;
  try {
    outcome = await ctx.store.publish({ event, deliveries, idempotencyKey, requestHash });
  } catch (err) {
    reservation?.cancel();
    throw err;
  }
  if (reservation) {
    if (outcome.created) reservation.start(handedOff(event, endpoints, deliveries, outcome.endpointsGone));
    else reservation.cancel();
  }
  if (!outcome.created && outcome.requestHash !== null && outcome.requestHash !== requestHash) {
    throw new ApiError('idempotency_conflict');
  }
  return { event: outcome.event, created: outcome.created };
}

const handoffTarget = (e: EndpointRecord): HandoffTarget => ({ endpointId: e.id, maxConcurrency: e.maxConcurrency, rateLimit: e.rateLimit });

/** The leased deliveries a publish wrote, with everything their first attempt needs. */
function handedOff(
  event: EventRecord,
  endpoints: EndpointRecord[],
  deliveries: DeliveryRecord[],
  endpointsGone: ReadonlySet<string> | undefined,
): ClaimedDelivery[] {
  const claimed: ClaimedDelivery[] = [];
  deliveries.forEach((d, i) => {
    if (!d.lease || endpointsGone?.has(d.endpointId)) return;
    const e = endpoints[i]!;
    claimed.push({
      deliveryId: d.id,
      workspaceId: d.workspaceId,
      eventId: event.id,
      payload: event.payload,
      endpointId: e.id,
      url: e.url,
      secret: e.secret,
      previousSecret: e.previousSecret,
      previousSecretExpiresAt: e.previousSecretExpiresAt,
      attemptNumber: 1,
      maxAttempts: d.maxAttempts,
      maxConcurrency: e.maxConcurrency,
      rateLimit: e.rateLimit,
    });
  });
  return claimed;
}

export async function getEvent(ctx: ServiceContext, workspaceId: string, id: string) {
  const event = await ctx.store.getEvent(workspaceId, id);
  if (!event) throw new ApiError('not_found', `No event ${id} in this workspace.`);
  const deliveries = await ctx.store.listDeliveriesForEvent(workspaceId, id);
  return { event, deliveries };
}

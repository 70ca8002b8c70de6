/** Publishing: validate, store once, fan out to every subscribed, enabled endpoint. */
import { createHash } from 'node:crypto';
import { isSubscribed } from '../domain/endpoint.js';
import { ApiError } from '../domain/errors.js';
import { prepareEvent } from '../domain/event.js';
import { newId } from '../domain/ids.js';
import type { DeliveryRecord, EventRecord } from '../store/types.js';
import type { ServiceContext } from './context.js';

export interface PublishResult {
  event: EventRecord;
  /** False when an Idempotency-Key matched an earlier publish. */
  created: boolean;
}

export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

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
  const deliveries: DeliveryRecord[] = endpoints.map((endpoint) => ({
    id: newId('delivery', now),
    workspaceId,
    eventId: event.id,
    endpointId: endpoint.id,
    eventType: event.type,
    status: 'pending',
    attempts: 0,
    maxAttempts: ctx.policy.maxAttempts,
    nextAttemptAt: now,
    lastStatusCode: null,
    lastError: null,
    isTest: false,
    createdAt: now,
    updatedAt: now,
  }));
  // The hash covers the body as the producer meant it, so a retried request matches even when
  // the service filled in the timestamp the first time.
  const requestHash = idempotencyKey === undefined ? undefined : createHash('sha256').update(JSON.stringify(body)).digest('hex');
  const outcome = await ctx.store.publish({ event, deliveries, idempotencyKey, requestHash });
  if (!outcome.created && outcome.requestHash !== null && outcome.requestHash !== requestHash) {
    throw new ApiError('idempotency_conflict');
  }
  return { event: outcome.event, created: outcome.created };
}

export async function getEvent(ctx: ServiceContext, workspaceId: string, id: string) {
  const event = await ctx.store.getEvent(workspaceId, id);
  if (!event) throw new ApiError('not_found', `No event ${id} in this workspace.`);
  const deliveries = await ctx.store.listDeliveriesForEvent(workspaceId, id);
  return { event, deliveries };
}

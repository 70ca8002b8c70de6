/**
 * The simulator: send one event type's example (or an edited payload) to an endpoint right now,
 * signed like a real delivery, and report what happened. The send is logged as a test delivery
 * with its single attempt, and is never retried.
 */
import { findEventType } from '../domain/catalog.js';
import { ApiError } from '../domain/errors.js';
import { prepareEvent } from '../domain/event.js';
import { newId } from '../domain/ids.js';
import type { AttemptResult } from '../domain/attempt.js';
import { attemptRecord, signedRequest } from '../delivery/request.js';
import type { DeliveryRecord, EventRecord } from '../store/types.js';
import type { ServiceContext } from './context.js';
import { getEndpoint } from './endpoints.js';

export interface TestSendResult {
  deliveryId: string;
  eventId: string;
  result: AttemptResult;
}

export async function testSend(
  ctx: ServiceContext,
  workspaceId: string,
  endpointId: string,
  eventType: string,
  payload?: Record<string, unknown>,
): Promise<TestSendResult> {
  const endpoint = await getEndpoint(ctx, workspaceId, endpointId);
  const type = findEventType(eventType);
  if (!type) throw new ApiError('unknown_event_type', `Unknown event type ${JSON.stringify(eventType.slice(0, 100))}.`);
  const body = payload ?? type.example;
  if (body.event !== undefined && body.event !== eventType) {
    throw new ApiError('validation_failed', `The payload's "event" is ${JSON.stringify(body.event)}, not ${eventType}.`);
  }
  const startedAt = ctx.now();
  const prepared = prepareEvent({ ...body, event: eventType }, new Date(startedAt));
  const event: EventRecord = {
    id: newId('event', startedAt),
    workspaceId,
    type: eventType,
    payload: prepared.payload,
    createdAt: startedAt,
    fanout: 1,
    isTest: true,
  };
  const req = signedRequest(endpoint, event.id, event.payload, startedAt);
  const result = await ctx.send(req);
  const delivery: DeliveryRecord = {
    id: newId('delivery', startedAt),
    workspaceId,
    eventId: event.id,
    endpointId,
    eventType,
    status: result.ok ? 'succeeded' : 'failed',
    attempts: 1,
    maxAttempts: 1,
    nextAttemptAt: null,
    lastStatusCode: result.statusCode ?? null,
    lastError: result.error ?? null,
    isTest: true,
    createdAt: startedAt,
    updatedAt: ctx.now(),
  };
  const attempt = attemptRecord(
    { deliveryId: delivery.id, workspaceId, endpointId, number: 1, startedAt },
    req,
    result,
  );
  await ctx.store.recordTestSend(event, delivery, attempt);
  return { deliveryId: delivery.id, eventId: event.id, result };
}

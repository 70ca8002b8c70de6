/** Reading the delivery log, resending by hand, and the numbers behind the dashboard's chart. */
import { ApiError } from '../domain/errors.js';
import type { DeliveryStatus } from '../domain/delivery.js';
import type { DeliveryRecord, DeliveryStatsBucket } from '../store/types.js';
import type { ServiceContext } from './context.js';
import { getEndpoint } from './endpoints.js';

export interface DeliveryQuery {
  status?: DeliveryStatus;
  eventType?: string;
  cursor?: string;
  limit: number;
}

export async function listDeliveries(ctx: ServiceContext, workspaceId: string, endpointId: string, query: DeliveryQuery) {
  await getEndpoint(ctx, workspaceId, endpointId);
  return ctx.store.listDeliveries(workspaceId, endpointId, query);
}

async function findDelivery(ctx: ServiceContext, workspaceId: string, id: string): Promise<DeliveryRecord> {
  const delivery = await ctx.store.getDelivery(workspaceId, id);
  if (!delivery) throw new ApiError('not_found', `No delivery ${id} in this workspace.`);
  return delivery;
}

/** A delivery with its payload and every attempt, oldest first. */
export async function getDelivery(ctx: ServiceContext, workspaceId: string, id: string) {
  const delivery = await findDelivery(ctx, workspaceId, id);
  const [event, attempts] = await Promise.all([
    ctx.store.getEvent(workspaceId, delivery.eventId),
    ctx.store.listAttempts(workspaceId, id),
  ]);
  return { delivery, payload: event?.payload ?? null, attempts };
}

/** Queue one more attempt now, whatever state the delivery ended in. */
export async function retryDelivery(ctx: ServiceContext, workspaceId: string, id: string): Promise<DeliveryRecord> {
  const delivery = await findDelivery(ctx, workspaceId, id);
  if (delivery.isTest) throw new ApiError('conflict', 'Simulator sends are not retried; send another test instead.');
  const endpoint = await ctx.store.getEndpoint(workspaceId, delivery.endpointId);
  if (endpoint?.status !== 'enabled') throw new ApiError('endpoint_disabled');
  const requeued = await ctx.store.requeueDelivery(workspaceId, id, ctx.now());
  if (!requeued) throw new ApiError('not_found', `No delivery ${id} in this workspace.`);
  return requeued;
}

export const STATS_WINDOWS = { '24h': { spanMs: 24 * 3600_000, bucketMs: 3600_000 }, '7d': { spanMs: 7 * 24 * 3600_000, bucketMs: 6 * 3600_000 } } as const;
export type StatsWindow = keyof typeof STATS_WINDOWS;

export async function endpointStats(
  ctx: ServiceContext,
  workspaceId: string,
  endpointId: string,
  window: StatsWindow,
): Promise<{ bucketMs: number; buckets: DeliveryStatsBucket[] }> {
  await getEndpoint(ctx, workspaceId, endpointId);
  const { spanMs, bucketMs } = STATS_WINDOWS[window];
  const buckets = await ctx.store.deliveryStats(workspaceId, endpointId, ctx.now() - spanMs, bucketMs);
  return { bucketMs, buckets };
}

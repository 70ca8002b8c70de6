/** Managing endpoints: register, change, remove, and the signing secret's life cycle. */
import { ApiError } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { normaliseSubscription, parseEndpointUrl, type EndpointStatus } from '../domain/endpoint.js';
import { generateSecret } from '../signing/index.js';
import type { EndpointPatch, EndpointRecord, EndpointSummary } from '../store/types.js';
import type { ServiceContext } from './context.js';

export interface EndpointInput {
  url: string;
  events: string[];
  description?: string;
  maxConcurrency?: number | null;
  rateLimit?: number | null;
}

export interface EndpointChange extends Partial<EndpointInput> {
  status?: EndpointStatus;
}

/** Text with a lone surrogate cannot be stored as it is (UTF-8 has no form for it). */
function checkedDescription(description: string): string {
  if (!description.isWellFormed()) throw new ApiError('validation_failed', 'The description is not well-formed Unicode.');
  return description;
}

function checkedUrl(ctx: ServiceContext, raw: string): string {
  const url = parseEndpointUrl(raw);
  ctx.checkUrl(url);
  return url.toString();
}

export async function createEndpoint(ctx: ServiceContext, workspaceId: string, input: EndpointInput): Promise<EndpointRecord> {
  const now = ctx.now();
  const endpoint: EndpointRecord = {
    id: newId('endpoint', now),
    workspaceId,
    url: checkedUrl(ctx, input.url),
    description: checkedDescription(input.description ?? ''),
    events: normaliseSubscription(input.events),
    status: 'enabled',
    disabledReason: null,
    secret: generateSecret(),
    previousSecret: null,
    previousSecretExpiresAt: null,
    maxConcurrency: input.maxConcurrency ?? null,
    rateLimit: input.rateLimit ?? null,
    consecutiveFailures: 0,
    failingSince: null,
    createdAt: now,
    updatedAt: now,
  };
  await ctx.store.insertEndpoint(endpoint);
  return endpoint;
}

export async function getEndpoint(ctx: ServiceContext, workspaceId: string, id: string): Promise<EndpointRecord> {
  const endpoint = await ctx.store.getEndpoint(workspaceId, id);
  if (!endpoint) throw new ApiError('not_found', `No webhook ${id} in this workspace.`);
  return endpoint;
}

export async function listEndpoints(
  ctx: ServiceContext,
  workspaceId: string,
): Promise<{ endpoint: EndpointRecord; summary: EndpointSummary | undefined }[]> {
  const [endpoints, summaries] = await Promise.all([
    ctx.store.listEndpoints(workspaceId),
    ctx.store.endpointSummaries(workspaceId, ctx.now() - 24 * 3600_000),
  ]);
  const byId = new Map(summaries.map((s) => [s.endpointId, s]));
  return endpoints.map((endpoint) => ({ endpoint, summary: byId.get(endpoint.id) }));
}

export async function updateEndpoint(ctx: ServiceContext, workspaceId: string, id: string, change: EndpointChange): Promise<EndpointRecord> {
  const patch: EndpointPatch = {};
  if (change.url !== undefined) patch.url = checkedUrl(ctx, change.url);
  if (change.events !== undefined) patch.events = normaliseSubscription(change.events);
  if (change.description !== undefined) patch.description = checkedDescription(change.description);
  if (change.maxConcurrency !== undefined) patch.maxConcurrency = change.maxConcurrency;
  if (change.rateLimit !== undefined) patch.rateLimit = change.rateLimit;
  if (change.status !== undefined) {
    patch.status = change.status;
    // Enabling by hand clears the reason the service disabled it for.
    if (change.status === 'enabled') patch.disabledReason = null;
  }
  const updated = await ctx.store.updateEndpoint(workspaceId, id, patch, ctx.now());
  if (!updated) throw new ApiError('not_found', `No webhook ${id} in this workspace.`);
  return updated;
}

export async function deleteEndpoint(ctx: ServiceContext, workspaceId: string, id: string): Promise<void> {
  if (!(await ctx.store.deleteEndpoint(workspaceId, id))) throw new ApiError('not_found', `No webhook ${id} in this workspace.`);
}

/**
 * Replace the signing secret. The old one keeps signing alongside the new one until the grace
 * period ends, so receivers can switch without rejecting a single delivery.
 */
export async function rotateSecret(ctx: ServiceContext, workspaceId: string, id: string, graceMs: number): Promise<EndpointRecord> {
  const current = await getEndpoint(ctx, workspaceId, id);
  const now = ctx.now();
  const updated = await ctx.store.updateEndpoint(
    workspaceId,
    id,
    { secret: generateSecret(), previousSecret: current.secret, previousSecretExpiresAt: now + graceMs },
    now,
  );
  if (!updated) throw new ApiError('not_found', `No webhook ${id} in this workspace.`);
  return updated;
}

/** /v1/webhooks: register and manage endpoints, their secrets, the simulator and their logs. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { ServiceContext } from '../../services/context.js';
import { endpointStats, listDeliveries } from '../../services/deliveries.js';
import * as endpoints from '../../services/endpoints.js';
import { testSend } from '../../services/test-send.js';
import { deliveryJson, iso, testResultJson, webhookInput, webhookJson, webhookStatsJson } from '../representation.js';
import * as S from '../schemas.js';

export interface WebhookRouteOptions {
  ctx: ServiceContext;
  secretGraceMs: number;
}

const tags = ['webhooks'];

export const webhookRoutes: FastifyPluginAsyncTypebox<WebhookRouteOptions> = async (app, { ctx, secretGraceMs }) => {
  app.post(
    '/webhooks',
    { schema: { tags, summary: 'Register an endpoint', body: S.CreateWebhookBody, response: { 201: S.WebhookWithSecret } } },
    async (request, reply) => {
      const endpoint = await endpoints.createEndpoint(ctx, request.workspaceId, webhookInput(request.body));
      return reply.code(201).send({ ...webhookJson(endpoint), secret: endpoint.secret });
    },
  );

  app.get(
    '/webhooks',
    { schema: { tags, summary: 'List endpoints with their last 24 h of delivery health', response: { 200: S.dataOf(S.WebhookListItem) } } },
    async (request) => {
      const list = await endpoints.listEndpoints(ctx, request.workspaceId);
      return { data: list.map(({ endpoint, summary }) => ({ ...webhookJson(endpoint), stats: webhookStatsJson(summary) })) };
    },
  );

  app.get(
    '/webhooks/:id',
    { schema: { tags, summary: 'Get an endpoint', params: S.IdParams, response: { 200: S.Webhook } } },
    async (request) => webhookJson(await endpoints.getEndpoint(ctx, request.workspaceId, request.params.id)),
  );

  app.patch(
    '/webhooks/:id',
    {
      schema: {
        tags,
        summary: 'Change an endpoint; status "enabled" also resumes an endpoint the service disabled',
        params: S.IdParams,
        body: S.UpdateWebhookBody,
        response: { 200: S.Webhook },
      },
    },
    async (request) => webhookJson(await endpoints.updateEndpoint(ctx, request.workspaceId, request.params.id, webhookInput(request.body))),
  );

  app.delete(
    '/webhooks/:id',
    { schema: { tags, summary: 'Delete an endpoint with its delivery log', params: S.IdParams, response: { 204: Type.Null() } } },
    async (request, reply) => {
      await endpoints.deleteEndpoint(ctx, request.workspaceId, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/webhooks/:id/secret',
    { schema: { tags, summary: "Reveal an endpoint's signing secret", params: S.IdParams, response: { 200: S.Secret } } },
    async (request) => {
      const endpoint = await endpoints.getEndpoint(ctx, request.workspaceId, request.params.id);
      return { secret: endpoint.secret, previous_secret_expires_at: iso(endpoint.previousSecretExpiresAt) };
    },
  );

  app.post(
    '/webhooks/:id/secret/rotate',
    {
      schema: {
        tags,
        summary: 'Issue a new signing secret; the old one keeps signing too until the grace period ends',
        params: S.IdParams,
        response: { 200: S.Secret },
      },
    },
    async (request) => {
      const endpoint = await endpoints.rotateSecret(ctx, request.workspaceId, request.params.id, secretGraceMs);
      return { secret: endpoint.secret, previous_secret_expires_at: iso(endpoint.previousSecretExpiresAt) };
    },
  );

  app.post(
    '/webhooks/:id/test',
    {
      schema: {
        tags,
        summary: "Simulator: send an event type's example (or your payload) now and report the outcome",
        params: S.IdParams,
        body: S.TestBody,
        response: { 200: S.TestResult },
      },
    },
    async (request) => {
      const { deliveryId, eventId, result } = await testSend(
        ctx,
        request.workspaceId,
        request.params.id,
        request.body.event,
        request.body.payload as Record<string, unknown> | undefined,
      );
      return testResultJson(deliveryId, eventId, result);
    },
  );

  app.get(
    '/webhooks/:id/deliveries',
    {
      schema: {
        tags,
        summary: "An endpoint's deliveries, newest first",
        params: S.IdParams,
        querystring: S.DeliveryListQuery,
        response: { 200: Type.Object({ data: Type.Array(S.Delivery), next_cursor: Type.Union([Type.String(), Type.Null()]) }) },
      },
    },
    async (request) => {
      const q = request.query;
      const page = await listDeliveries(ctx, request.workspaceId, request.params.id, {
        status: q.status,
        eventType: q.event,
        cursor: q.cursor,
        limit: q.limit ? Number(q.limit) : 20,
      });
      return { data: page.data.map(deliveryJson), next_cursor: page.nextCursor };
    },
  );

  app.get(
    '/webhooks/:id/stats',
    {
      schema: {
        tags,
        summary: 'Attempts per bucket (succeeded, failed) and latency, for charts',
        params: S.IdParams,
        querystring: S.StatsQuery,
        response: { 200: S.Stats },
      },
    },
    async (request) => {
      const window = request.query.window ?? '24h';
      const { bucketMs, buckets } = await endpointStats(ctx, request.workspaceId, request.params.id, window);
      return {
        window,
        bucket_ms: bucketMs,
        buckets: buckets.map((b) => ({
          start: iso(b.start)!,
          succeeded: b.succeeded,
          failed: b.failed,
          avg_latency_ms: b.avgLatencyMs,
          p95_latency_ms: b.p95LatencyMs,
        })),
      };
    },
  );
};

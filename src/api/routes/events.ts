/** /v1/events: publish, and look an event up with the state of its deliveries. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { ServiceContext } from '../../services/context.js';
import { getEvent, publishEvent } from '../../services/events.js';
import { deliveryJson, eventJson } from '../representation.js';
import * as S from '../schemas.js';

const tags = ['events'];

export const eventRoutes: FastifyPluginAsyncTypebox<{ ctx: ServiceContext }> = async (app, { ctx }) => {
  app.post(
    '/events',
    {
      schema: {
        tags,
        summary: 'Publish an event; it is fanned out to every subscribed, enabled endpoint',
        description:
          'The body is the event itself (see GET /v1/event-types). Extra fields are kept and delivered unchanged. ' +
          'With an Idempotency-Key header, repeating the request returns the first result and fans out only once.',
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String()) }),
        body: Type.Object({ event: Type.String() }, { additionalProperties: true }),
        response: { 202: S.PublishedEvent, 200: S.PublishedEvent },
      },
    },
    async (request, reply) => {
      const key = request.headers['idempotency-key'];
      const { event, created } = await publishEvent(ctx, request.workspaceId, request.body, key);
      // A replay answers like the first call did; the header says it was one.
      if (!created) reply.header('idempotent-replayed', 'true');
      return reply.code(202).send(eventJson(event));
    },
  );

  app.get(
    '/events/:id',
    { schema: { tags, summary: 'An event, its payload and the state of each delivery', params: S.IdParams, response: { 200: S.EventWithDeliveries } } },
    async (request) => {
      const { event, deliveries } = await getEvent(ctx, request.workspaceId, request.params.id);
      return { ...eventJson(event), payload: JSON.parse(event.payload) as unknown, deliveries: deliveries.map(deliveryJson) };
    },
  );
};

/** /v1/deliveries: one delivery with every attempt, and the manual resend. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ServiceContext } from '../../services/context.js';
import { getDelivery, retryDelivery } from '../../services/deliveries.js';
import { attemptJson, deliveryJson } from '../representation.js';
import * as S from '../schemas.js';

const tags = ['deliveries'];

export const deliveryRoutes: FastifyPluginAsyncTypebox<{ ctx: ServiceContext }> = async (app, { ctx }) => {
  app.get(
    '/deliveries/:id',
    {
      schema: {
        tags,
        summary: 'A delivery with every attempt: request sent, response received, duration, error',
        params: S.IdParams,
        response: { 200: S.DeliveryDetail },
      },
    },
    async (request) => {
      const { delivery, payload, attempts } = await getDelivery(ctx, request.workspaceId, request.params.id);
      return { ...deliveryJson(delivery), payload, attempts: attempts.map((a) => attemptJson(a, payload)) };
    },
  );

  app.post(
    '/deliveries/:id/retry',
    {
      schema: {
        tags,
        summary: 'Queue one more attempt now (manual resend)',
        params: S.IdParams,
        response: { 202: S.Delivery },
      },
    },
    async (request, reply) => reply.code(202).send(deliveryJson(await retryDelivery(ctx, request.workspaceId, request.params.id))),
  );
};

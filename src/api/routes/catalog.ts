/** /v1/event-types and /v1/workspace: what can be subscribed to, and facts about the caller's workspace. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Config } from '../../config.js';
import { EVENT_TYPES } from '../../domain/catalog.js';
import { dataOf } from '../schemas.js';

export const catalogRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  app.get(
    '/event-types',
    {
      schema: {
        tags: ['catalog'],
        summary: 'Every event type with its JSON Schema and an example payload',
        response: {
          200: dataOf(Type.Object({ name: Type.String(), description: Type.String(), schema: Type.Unknown(), example: Type.Unknown() })),
        },
      },
    },
    async () => ({ data: [...EVENT_TYPES] }),
  );

  app.get(
    '/workspace',
    {
      schema: {
        tags: ['catalog'],
        summary: "The caller's workspace and the delivery policy it runs under",
        response: {
          200: Type.Object({
            id: Type.String(),
            retention_seconds: Type.Integer({ description: 'How long delivery logs are kept.' }),
            max_attempts: Type.Integer(),
          }),
        },
      },
    },
    async (request) => ({
      id: request.workspaceId,
      retention_seconds: config.logRetentionSeconds,
      max_attempts: config.maxAttempts,
    }),
  );
};

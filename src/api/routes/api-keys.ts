/** /v1/api-keys: a workspace's keys (shown by prefix only), new keys, and revocation. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ApiError } from '../../domain/errors.js';
import { createKey } from '../../services/keys.js';
import type { WorkspaceStore } from '../../store/types.js';
import { iso } from '../representation.js';
import * as S from '../schemas.js';

const tags = ['api-keys'];

export const apiKeyRoutes: FastifyPluginAsyncTypebox<{ store: WorkspaceStore; now: () => number }> = async (app, { store, now }) => {
  app.get('/api-keys', { schema: { tags, summary: "List the workspace's API keys", response: { 200: S.dataOf(S.ApiKey) } } }, async (request) => ({
    data: (await store.listApiKeys(request.workspaceId)).map((k) => ({
      id: k.id,
      prefix: k.prefix,
      created_at: iso(k.createdAt)!,
      revoked_at: iso(k.revokedAt),
    })),
  }));

  app.post(
    '/api-keys',
    {
      schema: {
        tags,
        summary: 'Create another key for this workspace; the key is shown only in this answer',
        response: { 201: Type.Object({ id: Type.String(), key: Type.String() }) },
      },
    },
    async (request, reply) => {
      const { keyId, key } = await createKey(store, request.workspaceId, now());
      return reply.code(201).send({ id: keyId, key });
    },
  );

  app.delete(
    '/api-keys/:id',
    { schema: { tags, summary: 'Revoke a key; it stops working at once', params: S.IdParams, response: { 204: Type.Null() } } },
    async (request, reply) => {
      if (!(await store.revokeApiKey(request.workspaceId, request.params.id, now()))) {
        throw new ApiError('not_found', `No live API key ${request.params.id} in this workspace.`);
      }
      return reply.code(204).send(null);
    },
  );
};

/** Bearer-key authentication for every /v1 route: the key decides the workspace a request sees. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authenticate } from '../services/keys.js';
import type { WorkspaceStore } from '../store/types.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth hook on every /v1 request that gets past it. */
    workspaceId: string;
    apiKeyId: string;
  }
}

export function bearerKey(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

export function registerAuth(app: FastifyInstance, store: WorkspaceStore): void {
  app.decorateRequest('workspaceId', '');
  app.decorateRequest('apiKeyId', '');
  app.addHook('onRequest', async (request) => {
    const key = await authenticate(store, bearerKey(request));
    request.workspaceId = key.workspaceId;
    request.apiKeyId = key.id;
  });
}

/**
 * The HTTP application: the public /v1 API (authenticated, JSON only), /healthz, the OpenAPI
 * document at /openapi.json with a browsable copy at /docs, and the dashboard at /. Built from
 * its dependencies, so tests and main.ts get the same app.
 */
import { existsSync } from 'node:fs';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController } from 'fastify';
import type { Logger } from 'pino';
import { ApiError } from '../domain/errors.js';
import type { ServiceContext } from '../services/context.js';
import { registerAuth } from './auth.js';
import { sendError } from './errors.js';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from './json-depth.js';
import { apiKeyRoutes } from './routes/api-keys.js';
import { catalogRoutes } from './routes/catalog.js';
import { deliveryRoutes } from './routes/deliveries.js';
import { eventRoutes } from './routes/events.js';
import { webhookRoutes } from './routes/webhooks.js';
import { ErrorBody } from './schemas.js';

export interface AppOptions {
  ctx: ServiceContext;
  logger: Logger;
  /** Built dashboard assets; served at / when the folder exists. */
  webRoot?: string;
  secretGraceMs: number;
  version: string;
}

const DASHBOARD_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

export async function buildApp(options: AppOptions) {
  const { ctx } = options;
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: ctx.config.maxBodyBytes,
    // Types are not coerced and unknown fields are not silently dropped: a wrong request is refused.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false, verbose: true } },
    logController: new LogController({ disableRequestLogging: true }),
    // Errors the framework meets before routing (a malformed URL, an over-long id) get our shape too.
    frameworkErrors: (err, request, reply) => sendError(err, request, reply),
    return503OnClosing: true,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setErrorHandler((err, request, reply) => sendError(err as Error, request, reply));

  // JSON bodies as usual (prototype-poisoning keys refused), but an empty body is no body, so
  // `curl -X POST -H 'content-type: application/json'` works on routes that take none.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') return done(null, undefined);
    if (jsonDepthExceeds(body as string)) {
      return done(new ApiError('validation_failed', `The JSON is nested more than ${MAX_JSON_DEPTH} levels deep.`), undefined);
    }
    parseJson(request, body as string, done);
  });

  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'Social Flow Webhooks API',
        version: options.version,
        description: 'Publish events and have them delivered, signed, to the endpoints that subscribe to them.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  app.addSchema(ErrorBody);

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok', store: ctx.store.kind }));
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', staticCSP: true });

  await app.register(
    async (v1) => {
      registerAuth(v1, ctx.store);
      if (ctx.config.apiRateLimit > 0) {
        // Per API key and per node, counted after authentication and before the body is parsed.
        await v1.register(fastifyRateLimit, {
          hook: 'preParsing',
          max: ctx.config.apiRateLimit,
          timeWindow: 1000,
          keyGenerator: (request) => request.apiKeyId,
          errorResponseBuilder: (_request, context) =>
            new ApiError('rate_limited', `More than ${context.max} requests a second with this key; retry after ${context.after}.`, {
              'retry-after': String(Math.max(1, Math.ceil(context.ttl / 1000))),
            }),
        });
      }
      await v1.register(catalogRoutes, { config: ctx.config });
      await v1.register(webhookRoutes, { ctx, secretGraceMs: options.secretGraceMs });
      await v1.register(eventRoutes, { ctx });
      await v1.register(deliveryRoutes, { ctx });
      await v1.register(apiKeyRoutes, { store: ctx.store, now: ctx.now });
    },
    { prefix: '/v1' },
  );

  const webRoot = options.webRoot && existsSync(options.webRoot) ? options.webRoot : undefined;
  if (webRoot) {
    await app.register(fastifyStatic, { root: webRoot, wildcard: false, setHeaders: (res) => {
        for (const [name, value] of Object.entries(DASHBOARD_HEADERS)) res.header(name, value);
      },
    });
  }

  app.setNotFoundHandler((request, reply) => {
    const isPage = request.method === 'GET' && !request.url.startsWith('/v1') && (request.headers.accept ?? '').includes('text/html');
    if (isPage && webRoot) return reply.headers(DASHBOARD_HEADERS).sendFile('index.html');
    if (isPage) return reply.code(404).type('text/plain').send('The dashboard is not built yet: run `npm run build`.');
    return sendError(new ApiError('route_not_found', `No route ${request.method} ${request.url.split('?')[0]}.`), request, reply);
  });

  return app;
}

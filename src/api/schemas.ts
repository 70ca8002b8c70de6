/**
 * Request and response schemas of the public API. Fastify validates requests with them and
 * @fastify/swagger turns them into the OpenAPI document, so what is checked and what is
 * documented cannot drift apart.
 */
import { Type, type TSchema } from 'typebox';
import { DELIVERY_STATUSES } from '../domain/delivery.js';
import { ENDPOINT_STATUSES, MAX_URL_LENGTH } from '../domain/endpoint.js';
import { STATS_WINDOWS } from '../services/deliveries.js';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Iso = Type.String({ format: 'date-time' });
const StringMap = Type.Record(Type.String(), Type.String());
const literals = <T extends string>(values: readonly T[]) => Type.Enum([...values]);

export const ErrorBody = Type.Object(
  { error: Type.Object({ code: Type.String(), message: Type.String() }) },
  { $id: 'Error', description: 'Every error answer has this shape.' },
);

/** Text that every store can keep as it is: PostgreSQL refuses the NUL character. */
const NO_NUL = '^[^\\u0000]*$';

export const IdParams = Type.Object({ id: Type.String({ maxLength: 64, pattern: NO_NUL, description: 'an id, without NUL characters' }) });

const EventNames = Type.Array(Type.String({ maxLength: 64 }), {
  minItems: 1,
  maxItems: 100,
  description: 'Event types to receive, or ["*"] for all.',
});
const Description = Type.String({ maxLength: 1000, pattern: NO_NUL, description: 'up to 1000 characters, without NUL' });
const Url = Type.String({ maxLength: MAX_URL_LENGTH, description: 'http(s) URL that receives the POSTs.' });
const MaxConcurrency = Nullable(
  Type.Integer({ minimum: 1, maximum: 1000, description: 'Attempts in flight at once per worker node; null = the service default.' }),
);
const RateLimit = Nullable(Type.Integer({ minimum: 1, maximum: 10000, description: 'Deliveries per second per worker node; null = unlimited.' }));

const webhookSettings = {
  description: Type.Optional(Description),
  max_concurrency: Type.Optional(MaxConcurrency),
  rate_limit: Type.Optional(RateLimit),
};

export const CreateWebhookBody = Type.Object({ url: Url, events: EventNames, ...webhookSettings }, { additionalProperties: false });

export const UpdateWebhookBody = Type.Object(
  { url: Type.Optional(Url), events: Type.Optional(EventNames), ...webhookSettings, status: Type.Optional(literals(ENDPOINT_STATUSES)) },
  { additionalProperties: false },
);

export const Webhook = Type.Object({
  id: Type.String(),
  url: Type.String(),
  events: Type.Array(Type.String()),
  description: Type.String(),
  status: literals(ENDPOINT_STATUSES),
  disabled_reason: Nullable(Type.String()),
  max_concurrency: MaxConcurrency,
  rate_limit: RateLimit,
  failing_since: Nullable(Iso),
  consecutive_failures: Type.Integer({ description: 'Deliveries in a row that ended failed.' }),
  created_at: Iso,
  updated_at: Iso,
});

export const WebhookStats = Type.Object({
  attempts_24h: Type.Integer(),
  succeeded_24h: Type.Integer(),
  success_rate_24h: Nullable(Type.Number()),
  last_attempt_at: Nullable(Iso),
  last_attempt_ok: Nullable(Type.Boolean()),
});

export const WebhookWithSecret = Type.Object({ ...Webhook.properties, secret: Type.String() });
export const WebhookListItem = Type.Object({ ...Webhook.properties, stats: WebhookStats });

export const Secret = Type.Object({ secret: Type.String(), previous_secret_expires_at: Type.Optional(Nullable(Iso)) });

export const TestBody = Type.Object(
  {
    event: Type.String({ maxLength: 64 }),
    payload: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'Replaces the example payload.' })),
  },
  { additionalProperties: false },
);

export const TestResult = Type.Object({
  delivery_id: Type.String(),
  event_id: Type.String(),
  ok: Type.Boolean(),
  status_code: Nullable(Type.Integer()),
  duration_ms: Type.Integer(),
  response_headers: Nullable(StringMap),
  response_body: Nullable(Type.String()),
  error: Nullable(Type.String()),
  failure: Nullable(Type.String()),
});

export const PublishedEvent = Type.Object({
  id: Type.String(),
  event: Type.String(),
  deliveries: Type.Integer({ description: 'How many endpoints the event fanned out to.' }),
  created_at: Iso,
  test: Type.Boolean(),
});

export const Delivery = Type.Object({
  id: Type.String(),
  event_id: Type.String(),
  webhook_id: Type.String(),
  event: Type.String(),
  status: literals(DELIVERY_STATUSES),
  attempts: Type.Integer(),
  max_attempts: Type.Integer(),
  next_attempt_at: Nullable(Iso),
  last_status_code: Nullable(Type.Integer()),
  last_error: Nullable(Type.String()),
  test: Type.Boolean(),
  created_at: Iso,
  updated_at: Iso,
});

/** In the detail views the count fields (`deliveries`, `attempts`) become the lists they count. */
export const EventWithDeliveries = Type.Object({
  ...PublishedEvent.properties,
  payload: Type.Unknown({ description: 'The delivered body, parsed.' }),
  deliveries: Type.Array(Delivery),
});

export const Attempt = Type.Object({
  id: Type.String(),
  number: Type.Integer(),
  started_at: Iso,
  duration_ms: Type.Integer(),
  ok: Type.Boolean(),
  failure: Nullable(Type.String()),
  error: Nullable(Type.String()),
  request: Type.Object({ url: Type.String(), headers: StringMap, body: Nullable(Type.String()) }),
  response: Nullable(Type.Object({ status: Type.Integer(), headers: StringMap, body: Type.String(), body_truncated: Type.Boolean() })),
});

export const DeliveryDetail = Type.Object({
  ...Delivery.properties,
  payload: Nullable(Type.String({ description: 'The exact body that was signed and sent.' })),
  attempts: Type.Array(Attempt),
});

export const DeliveryListQuery = Type.Object(
  {
    status: Type.Optional(literals(DELIVERY_STATUSES)),
    event: Type.Optional(Type.String({ maxLength: 64, pattern: NO_NUL, description: 'an event type' })),
    cursor: Type.Optional(Type.String({ maxLength: 64, pattern: NO_NUL, description: 'the next_cursor of the previous page' })),
    limit: Type.Optional(Type.String({ pattern: '^(100|[1-9][0-9]?)$', description: 'a whole number from 1 to 100 (default 20).' })),
  },
  { additionalProperties: false },
);

export const StatsQuery = Type.Object(
  { window: Type.Optional(literals(Object.keys(STATS_WINDOWS) as (keyof typeof STATS_WINDOWS)[])) },
  { additionalProperties: false },
);

export const Stats = Type.Object({
  window: Type.String(),
  bucket_ms: Type.Integer(),
  buckets: Type.Array(
    Type.Object({
      start: Iso,
      succeeded: Type.Integer(),
      failed: Type.Integer(),
      avg_latency_ms: Nullable(Type.Number()),
      p95_latency_ms: Nullable(Type.Number()),
    }),
  ),
});

export const ApiKey = Type.Object({
  id: Type.String(),
  prefix: Type.String(),
  created_at: Iso,
  revoked_at: Nullable(Iso),
});

export const dataOf = <T extends TSchema>(item: T) => Type.Object({ data: Type.Array(item) });

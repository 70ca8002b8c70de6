/**
 * The event catalog: every event type the platform publishes, with its JSON Schema, a one-line
 * description and a realistic example. This is the only place that knows the types, so adding one
 * is one edit here. Schemas list the required fields and allow extra ones, which are delivered
 * unchanged.
 */

export interface EventType {
  name: string;
  description: string;
  /** JSON Schema (draft 2020-12 subset understood by Ajv) for the whole delivered body. */
  schema: Record<string, unknown>;
  example: Record<string, unknown>;
}

const rfc3339 = { type: 'string', format: 'date-time' } as const;
const nonEmpty = { type: 'string', minLength: 1, maxLength: 1024 } as const;

/** Fields every event carries, whatever its type. */
function envelope(name: string, properties: Record<string, unknown>, required: string[]) {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: name,
    type: 'object',
    required: ['event', 'agent_id', ...required],
    properties: {
      event: { const: name },
      timestamp: { ...rfc3339, description: 'When it happened (RFC 3339, UTC). Set by the service when left out.' },
      agent_id: { ...nonEmpty, description: 'The Social Flow agent the event is about.' },
      ...properties,
    },
    additionalProperties: true,
  };
}

export const EVENT_TYPES: readonly EventType[] = [
  {
    name: 'post_published',
    description: 'A post went live on a social platform.',
    schema: envelope(
      'post_published',
      {
        platform: { ...nonEmpty, description: 'Where it was posted, e.g. X, LinkedIn, Instagram.' },
        post_id: { ...nonEmpty, description: "The platform's id of the post." },
        content_preview: { type: 'string', maxLength: 4096, description: 'The first characters of the post.' },
      },
      ['platform', 'post_id', 'content_preview'],
    ),
    example: {
      event: 'post_published',
      timestamp: '2025-05-29T16:47:00Z',
      agent_id: 'sf_042',
      platform: 'X',
      post_id: 'xpost-8823',
      content_preview: '5 tools I wish I knew earlier…',
    },
  },
  {
    name: 'forecast_ready',
    description: 'A scheduling forecast (best times to post) is ready.',
    schema: envelope(
      'forecast_ready',
      {
        forecast_id: nonEmpty,
        platform: nonEmpty,
        slots: {
          type: 'array',
          description: 'Candidate posting times with the predicted probability of good engagement.',
          items: {
            type: 'object',
            required: ['at', 'probability'],
            properties: { at: rfc3339, probability: { type: 'number', minimum: 0, maximum: 1 } },
          },
        },
      },
      ['forecast_id', 'platform', 'slots'],
    ),
    example: {
      event: 'forecast_ready',
      timestamp: '2025-05-29T17:00:00Z',
      agent_id: 'sf_042',
      forecast_id: 'fc_20250529_x',
      platform: 'X',
      slots: [
        { at: '2025-05-30T08:30:00Z', probability: 0.82 },
        { at: '2025-05-30T12:15:00Z', probability: 0.67 },
        { at: '2025-05-30T18:45:00Z', probability: 0.74 },
      ],
    },
  },
  {
    name: 'agent_trained',
    description: "An agent's memory was updated or reset.",
    schema: envelope(
      'agent_trained',
      {
        memory_version: { type: 'integer', minimum: 0 },
        action: { enum: ['updated', 'reset'] },
      },
      ['memory_version', 'action'],
    ),
    example: {
      event: 'agent_trained',
      timestamp: '2025-05-29T18:05:12Z',
      agent_id: 'sf_042',
      memory_version: 17,
      action: 'updated',
    },
  },
  {
    name: 'analytics_updated',
    description: 'Engagement statistics for a period were processed.',
    schema: envelope(
      'analytics_updated',
      {
        platform: nonEmpty,
        period_start: rfc3339,
        period_end: rfc3339,
        metrics: {
          type: 'object',
          description: 'Engagement figures; every value is a non-negative number.',
          additionalProperties: { type: 'number', minimum: 0 },
          properties: {
            impressions: { type: 'number', minimum: 0 },
            likes: { type: 'number', minimum: 0 },
            reposts: { type: 'number', minimum: 0 },
            replies: { type: 'number', minimum: 0 },
            clicks: { type: 'number', minimum: 0 },
            engagement_rate: { type: 'number', minimum: 0 },
          },
        },
      },
      ['platform', 'period_start', 'period_end', 'metrics'],
    ),
    example: {
      event: 'analytics_updated',
      timestamp: '2025-05-30T00:10:00Z',
      agent_id: 'sf_042',
      platform: 'X',
      period_start: '2025-05-29T00:00:00Z',
      period_end: '2025-05-30T00:00:00Z',
      metrics: { impressions: 18240, likes: 412, reposts: 57, replies: 33, clicks: 291, engagement_rate: 0.0436 },
    },
  },
  {
    name: 'plugin_triggered',
    description: 'A custom skill or plugin ran.',
    schema: envelope(
      'plugin_triggered',
      {
        plugin_id: nonEmpty,
        skill: nonEmpty,
        status: { enum: ['succeeded', 'failed'] },
        duration_ms: { type: 'number', minimum: 0 },
      },
      ['plugin_id', 'skill', 'status', 'duration_ms'],
    ),
    example: {
      event: 'plugin_triggered',
      timestamp: '2025-05-29T16:50:03Z',
      agent_id: 'sf_042',
      plugin_id: 'plg_hashtag_suggester',
      skill: 'suggest_hashtags',
      status: 'succeeded',
      duration_ms: 842,
    },
  },
];

export const EVENT_TYPE_NAMES: readonly string[] = EVENT_TYPES.map((t) => t.name);

/** Subscribing to this pseudo-type means every type, including ones added later. */
export const ALL_EVENTS = '*';

export function findEventType(name: string): EventType | undefined {
  return EVENT_TYPES.find((t) => t.name === name);
}

/**
 * Turning what a producer sends into the exact bytes every subscriber receives. An event is
 * checked against its catalog schema, gets a `timestamp` when it has none, and is serialised once:
 * those bytes are stored, signed and delivered unchanged on every attempt.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { EVENT_TYPES, EVENT_TYPE_NAMES, findEventType } from './catalog.js';
import { ApiError } from './errors.js';

// ajv-formats ships CommonJS whose default export is the function itself.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

// strictNumbers: Infinity (JSON's 1e400) is not a number a receiver could ever read back.
const ajv = addFormats(new Ajv2020({ allErrors: false, strict: false, strictNumbers: true }));
const validators = new Map(EVENT_TYPES.map((t) => [t.name, ajv.compile(t.schema)]));

export interface PreparedEvent {
  type: string;
  /** The delivered body, exactly as it is signed and sent. */
  payload: string;
}

/** Validate a producer's event and serialise it for delivery. Throws ApiError on bad input. */
export function prepareEvent(body: unknown, now: Date = new Date()): PreparedEvent {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ApiError('validation_failed', 'An event is a JSON object with at least "event" and "agent_id".');
  }
  const input = body as Record<string, unknown>;
  const type = input.event;
  if (typeof type !== 'string') {
    throw new ApiError('validation_failed', 'The "event" field is required and must name an event type.');
  }
  const eventType = findEventType(type);
  if (!eventType) {
    throw new ApiError('unknown_event_type', `Unknown event type ${JSON.stringify(type.slice(0, 100))}; known types are ${EVENT_TYPE_NAMES.join(', ')}.`);
  }
  // The timestamp goes right after "event" so the delivered body reads like the published sample.
  const event: Record<string, unknown> =
    input.timestamp === undefined
      ? { event: type, timestamp: now.toISOString().replace(/\.\d{3}Z$/, 'Z'), ...input }
      : input;
  const validate = validators.get(type)!;
  if (!validate(event)) {
    const first = validate.errors?.[0];
    const where = first?.instancePath ? first.instancePath.slice(1).replaceAll('/', '.') : '';
    const what =
      first?.keyword === 'required'
        ? `is missing the required field "${String(first.params.missingProperty)}"`
        : `${where ? `field "${where}" ` : ''}${first?.message ?? 'is invalid'}`;
    throw new ApiError('validation_failed', `This ${type} event ${what}.`);
  }
  return { type, payload: JSON.stringify(event) };
}

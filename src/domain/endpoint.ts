/**
 * Endpoints (what the API calls webhooks): a URL that receives the event types it subscribes to.
 * Rules here are the ones that hold whatever stores or serves them.
 */
import { ALL_EVENTS, EVENT_TYPE_NAMES } from './catalog.js';
import { ApiError } from './errors.js';

export const ENDPOINT_STATUSES = ['enabled', 'disabled'] as const;
export type EndpointStatus = (typeof ENDPOINT_STATUSES)[number];

export const MAX_URL_LENGTH = 2048;

/** Parse and check an endpoint URL; the returned string is the normalised form that is stored. */
export function parseEndpointUrl(raw: string): URL {
  if (raw.length > MAX_URL_LENGTH) throw new ApiError('invalid_url', `The URL is longer than ${MAX_URL_LENGTH} characters.`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ApiError('invalid_url', `"${raw.slice(0, 100)}" is not an absolute URL.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ApiError('invalid_url', `Only http and https URLs can receive webhooks, not ${url.protocol.slice(0, -1)}.`);
  }
  if (url.username || url.password) {
    throw new ApiError('invalid_url', 'Credentials in the URL are not allowed; authenticate by verifying the signature instead.');
  }
  if (!url.hostname) throw new ApiError('invalid_url', 'The URL has no host.');
  url.hash = '';
  return url;
}

/**
 * Check a subscription list: known types or "*", at least one. Returns it without duplicates,
 * and as just ["*"] when "*" is present.
 */
export function normaliseSubscription(events: readonly string[]): string[] {
  if (events.length === 0) throw new ApiError('validation_failed', 'Subscribe to at least one event type, or "*" for all.');
  const unknown = events.filter((e) => e !== ALL_EVENTS && !EVENT_TYPE_NAMES.includes(e));
  if (unknown.length > 0) {
    throw new ApiError(
      'unknown_event_type',
      `Unknown event type ${unknown.map((e) => JSON.stringify(e)).join(', ')}; known types are ${EVENT_TYPE_NAMES.join(', ')} (or "*").`,
    );
  }
  if (events.includes(ALL_EVENTS)) return [ALL_EVENTS];
  return [...new Set(events)];
}

export function isSubscribed(subscription: readonly string[], eventType: string): boolean {
  return subscription.includes(ALL_EVENTS) || subscription.includes(eventType);
}

/** Why the service disabled an endpoint that kept failing, in words an operator can act on. */
export function autoDisableReason(policy: { failingForMs: number; minFailedDeliveries: number }): string {
  const hours = policy.failingForMs / 3600_000;
  const span = hours >= 48 ? `${Math.round(hours / 24)} days` : hours >= 1 ? `${Math.round(hours)} hours` : `${Math.round(policy.failingForMs / 1000)} seconds`;
  return `Every attempt failed for more than ${span} and at least ${policy.minFailedDeliveries} deliveries in a row; fix the receiver, then enable the endpoint again.`;
}

/**
 * The delivery state machine. A delivery is one event on its way to one endpoint.
 *
 *   pending ──attempt ok──────────────▶ succeeded
 *      │  ▲
 *      │  └──attempt failed, attempts left: wait (backoff or Retry-After)
 *      └─────attempt failed, none left──▶ failed ──manual retry──▶ pending (one more attempt)
 *
 * A 410 Gone also ends the delivery as failed and asks for its endpoint to be disabled: the
 * receiver said the endpoint no longer exists.
 */
import type { AttemptResult } from './attempt.js';
import { backoffDelay, type RetryPolicy } from './retry.js';

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export type NextStep =
  | { status: 'succeeded' }
  | { status: 'pending'; nextAttemptAt: number }
  | { status: 'failed'; disableEndpoint?: string };

/**
 * Decide what follows an attempt.
 * @param attemptNumber the attempt just made, 1-based
 * @param maxAttempts the attempt budget of this delivery (a manual retry raises it by one)
 */
export function nextStep(
  result: AttemptResult,
  attemptNumber: number,
  maxAttempts: number,
  policy: RetryPolicy,
  now: number,
  random?: () => number,
): NextStep {
  if (result.ok) return { status: 'succeeded' };
  if (result.statusCode === 410) {
    return { status: 'failed', disableEndpoint: 'The receiver answered 410 Gone.' };
  }
  if (attemptNumber >= maxAttempts) return { status: 'failed' };
  const wait =
    result.retryAfterMs !== undefined
      ? Math.min(result.retryAfterMs, policy.maxRetryAfterMs)
      : backoffDelay(policy, attemptNumber, random);
  return { status: 'pending', nextAttemptAt: now + wait };
}

/**
 * The retry schedule: exponential backoff with full jitter on the upper half, so that endpoints
 * that fail together do not all come back at the same instant. Attempt n (1-based) that failed is
 * followed, if attempts remain, by a wait of base * 2^(n-1), randomised to 50–100% of that value
 * and capped at `maxDelayMs`. A receiver's Retry-After, when honoured, replaces the computed wait.
 */

export interface RetryPolicy {
  /** Attempts in all, the first one included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Upper bound on a receiver's Retry-After, so a hostile value cannot park a delivery forever. */
  maxRetryAfterMs: number;
}

/** Delay before the attempt after failed attempt number `attempt` (1-based). */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const exponential = policy.baseDelayMs * 2 ** Math.min(attempt - 1, 30);
  const capped = Math.min(exponential, policy.maxDelayMs);
  return Math.round(capped / 2 + random() * (capped / 2));
}

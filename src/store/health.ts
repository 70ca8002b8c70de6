/**
 * Endpoint health from a batch of attempt outcomes: what each endpoint's failure streak becomes.
 * A successful attempt ends a streak; a failed attempt starts one (at its start time) if none is
 * running; a delivery that ends failed lengthens it by one. Backends apply the result in SQL.
 */
import type { AttemptCompletion } from './types.js';

export interface HealthChange {
  /** A success in the batch ended the streak: the values below replace the stored ones. */
  reset: boolean;
  /** Deliveries that ended failed (after the last success, if any). */
  failedDeliveries: number;
  /** Start of the first failed attempt (after the last success); null when none failed. */
  failingSince: number | null;
  /** Why an outcome asked for the endpoint to be disabled at once (410 Gone); null if none did. */
  disableReason: string | null;
}

export function healthChanges(completions: AttemptCompletion[], endedFailed: (c: AttemptCompletion) => boolean): Map<string, HealthChange> {
  const changes = new Map<string, HealthChange>();
  for (const c of completions) {
    const id = c.attempt.endpointId;
    let change = changes.get(id);
    if (!change) changes.set(id, (change = { reset: false, failedDeliveries: 0, failingSince: null, disableReason: null }));
    if (c.next.status === 'failed' && c.next.disableEndpoint) change.disableReason ??= c.next.disableEndpoint;
    if (c.attempt.ok) {
      Object.assign(change, { reset: true, failedDeliveries: 0, failingSince: null });
      continue;
    }
    change.failingSince = Math.min(change.failingSince ?? c.attempt.startedAt, c.attempt.startedAt);
    if (endedFailed(c)) change.failedDeliveries++;
  }
  return changes;
}

/** Only a failure or a 410 in the batch can make an endpoint due for disabling. */
export const mayDisable = (change: HealthChange): boolean => change.failingSince !== null || change.disableReason !== null;

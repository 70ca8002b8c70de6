/**
 * The delivery queue and retention on PostgreSQL: the statements that many workers on many nodes
 * run against the same tables at once.
 */
import type pg from 'pg';
import { autoDisableReason } from '../../domain/endpoint.js';
import { healthChanges, mayDisable } from '../health.js';
import { CLAIM_WINDOW_FACTOR, type AttemptCompletion, type AutoDisablePolicy, type ClaimedDelivery, type ClaimRoom } from '../types.js';
import { inTransaction } from './db.js';
import { ATTEMPT_COLUMNS, bulkInsert, intOrNull, pgText, toClaimed } from './rows.js';

/**
 * Lease due deliveries in one statement. The CTE locks the rows it picks and SKIP LOCKED makes
 * concurrent claimers pass over rows another claim is taking, instead of waiting for or taking
 * them too. A row another claim leased and committed after our snapshot is re-checked under the
 * lock (READ COMMITTED re-evaluates the WHERE on the newest version) and dropped, as its lease is
 * then live. NO KEY UPDATE is the lock an UPDATE of non-key columns takes anyway; the stronger
 * FOR UPDATE would also collide with the key-share locks of foreign-key checks (attempt inserts).
 * MATERIALIZED keeps the locking subquery from being inlined into the UPDATE.
 */
const CLAIM_SQL = `
  WITH room AS (SELECT * FROM unnest($5::text[], $6::integer[]) AS r(endpoint_id, n)),
  due AS MATERIALIZED (
    SELECT d.id, d.endpoint_id, d.next_attempt_at, coalesce(r.n, e.max_concurrency, $7) AS room FROM deliveries d
    JOIN endpoints e ON e.id = d.endpoint_id
    LEFT JOIN room r ON r.endpoint_id = d.endpoint_id
    WHERE d.status = 'pending' AND d.next_attempt_at <= $1::bigint
      AND (d.lease_until IS NULL OR d.lease_until <= $1::bigint) AND e.status = 'enabled'
      AND coalesce(r.n, 1) > 0
    ORDER BY d.next_attempt_at
    LIMIT $8
    FOR NO KEY UPDATE OF d SKIP LOCKED
  ),
  picked AS (
    SELECT id, next_attempt_at FROM (
      SELECT id, next_attempt_at, room, row_number() OVER (PARTITION BY endpoint_id ORDER BY next_attempt_at, id) AS rank FROM due
    ) ranked
    WHERE rank <= room ORDER BY next_attempt_at, id LIMIT $2
  )
  UPDATE deliveries d SET lease_owner = $3, lease_until = $1::bigint + $4::bigint, next_attempt_at = $1::bigint + $4::bigint
  FROM picked, endpoints e, events ev
  WHERE d.id = picked.id AND e.id = d.endpoint_id AND ev.id = d.event_id
  RETURNING d.id, d.workspace_id, d.event_id, d.endpoint_id, d.attempts, d.max_attempts, picked.next_attempt_at AS due_at,
    ev.payload, e.url, e.secret, e.previous_secret, e.previous_secret_expires_at, e.max_concurrency, e.rate_limit`;

export async function claimDue(
  pool: pg.Pool,
  workerId: string,
  now: number,
  limit: number,
  leaseMs: number,
  room: ClaimRoom,
): Promise<ClaimedDelivery[]> {
  if (limit <= 0) return [];
  const limited = Object.entries(room.room);
  const { rows } = await pool.query(CLAIM_SQL, [
    now,
    limit,
    workerId,
    leaseMs,
    limited.map(([id]) => id),
    limited.map(([, n]) => n),
    room.defaultPerEndpoint,
    limit * CLAIM_WINDOW_FACTOR,
  ]);
  // UPDATE … RETURNING has no order; hand them out most overdue first, as they were picked.
  rows.sort((a, b) => Number(a.due_at) - Number(b.due_at) || (a.id < b.id ? -1 : 1));
  return rows.map(toClaimed);
}

/** Applies outcomes only where `$1` still holds the lease (fencing); the first outcome of a delivery wins. */
const COMPLETE_SQL = `
  UPDATE deliveries d SET status = u.status, attempts = greatest(d.attempts, u.number), next_attempt_at = u.next_attempt_at,
    last_status_code = u.last_status_code, last_error = u.last_error, lease_owner = NULL, lease_until = NULL, updated_at = $2
  FROM unnest($3::text[], $4::text[], $5::integer[], $6::bigint[], $7::integer[], $8::text[])
    AS u(id, status, number, next_attempt_at, last_status_code, last_error)
  WHERE d.id = u.id AND d.lease_owner = $1
  RETURNING d.id`;

export async function completeAttempts(
  pool: pg.Pool,
  workerId: string,
  completions: AttemptCompletion[],
  now: number,
  autoDisable: AutoDisablePolicy,
): Promise<void> {
  if (completions.length === 0) return;
  // Applied one by one, the first outcome of a delivery clears the lease and the rest no longer
  // match; one multi-row UPDATE would pick among duplicates arbitrarily, so drop them here.
  const firsts = new Map<string, AttemptCompletion>();
  for (const c of completions) if (!firsts.has(c.attempt.deliveryId)) firsts.set(c.attempt.deliveryId, c);
  const moves = [...firsts.values()];
  await inTransaction(pool, async (client) => {
    // A delivery deleted meanwhile (its endpoint was deleted during the attempt) cannot take an
    // attempt row; skip it rather than fail the batch, which would leave the others to be re-sent.
    // The key-share lock keeps the rest from being deleted until this commits.
    const { rows } = await client.query<{ id: string }>('SELECT id FROM deliveries WHERE id = ANY($1::text[]) FOR KEY SHARE', [
      moves.map((c) => c.attempt.deliveryId),
    ]);
    const alive = new Set(rows.map((r) => r.id));
    const attempts = completions.map((c) => c.attempt).filter((a) => alive.has(a.deliveryId));
    if (attempts.length > 0) await client.query(bulkInsert('attempts', ATTEMPT_COLUMNS, attempts));
    const { rows: applied } = await client.query<{ id: string }>(COMPLETE_SQL, [
      workerId,
      now,
      moves.map((c) => c.attempt.deliveryId),
      moves.map((c) => c.next.status),
      moves.map((c) => c.attempt.number),
      moves.map((c) => (c.next.status === 'pending' ? c.next.nextAttemptAt : null)),
      moves.map((c) => c.attempt.responseStatus),
      moves.map((c) => (c.attempt.error === null ? null : pgText(c.attempt.error))),
    ]);
    const endedFailed = new Set(applied.map((r) => r.id));
    const health = healthChanges(
      completions.filter((c) => alive.has(c.attempt.deliveryId)),
      (c) => c.next.status === 'failed' && endedFailed.has(c.attempt.deliveryId),
    );
    // One endpoint at a time in id order, so two batches touching the same endpoints cannot deadlock.
    for (const [endpointId, change] of [...health].sort(([a], [b]) => (a < b ? -1 : 1))) {
      await client.query(change.reset ? HEALTH_RESET_SQL : HEALTH_WORSEN_SQL, [endpointId, change.failedDeliveries, change.failingSince]);
      if (!mayDisable(change)) continue;
      await client.query(DISABLE_SQL, [
        endpointId, change.disableReason ?? autoDisableReason(autoDisable), now, change.disableReason !== null,
        autoDisable.minFailedDeliveries, now - autoDisable.failingForMs,
      ]);
    }
  });
}

/** A streak that ended is replaced; the row is only written when that changes it. */
const HEALTH_RESET_SQL = `
  UPDATE endpoints SET consecutive_failures = $2, failing_since = $3
  WHERE id = $1 AND (consecutive_failures <> $2 OR failing_since IS DISTINCT FROM $3)`;
const HEALTH_WORSEN_SQL = `
  UPDATE endpoints SET consecutive_failures = consecutive_failures + $2, failing_since = coalesce(failing_since, $3) WHERE id = $1`;
const DISABLE_SQL = `
  UPDATE endpoints SET status = 'disabled', disabled_reason = $2, updated_at = $3
  WHERE id = $1 AND status = 'enabled' AND ($4 OR (consecutive_failures >= $5 AND failing_since <= $6))`;

/** The next future due time, found through the partial index on next_attempt_at (see types.ts). */
export async function nextDueAt(pool: pg.Pool, after: number): Promise<number | undefined> {
  const { rows } = await pool.query(
    `SELECT d.next_attempt_at AS t FROM deliveries d JOIN endpoints e ON e.id = d.endpoint_id
     WHERE d.status = 'pending' AND d.next_attempt_at > $1::bigint AND e.status = 'enabled'
     ORDER BY d.next_attempt_at LIMIT 1`,
    [after],
  );
  return intOrNull(rows[0]?.t) ?? undefined;
}

/**
 * One batch per statement, each committing on its own, so a purge never holds many locks or a
 * long transaction. SKIP LOCKED leaves rows someone is working on (a requeue) for the next run.
 */
export async function purgeBefore(pool: pg.Pool, cutoff: number, batchSize: number): Promise<number> {
  const deleted = await pool.query(
    `DELETE FROM deliveries WHERE id IN (
       SELECT id FROM deliveries WHERE status <> 'pending' AND updated_at < $1::bigint
       LIMIT $2 FOR UPDATE SKIP LOCKED)`,
    [cutoff, batchSize],
  );
  await pool.query(
    `DELETE FROM events WHERE id IN (
       SELECT id FROM events ev WHERE created_at < $1::bigint
         AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = ev.id)
       LIMIT $2 FOR UPDATE SKIP LOCKED)`,
    [cutoff, batchSize],
  );
  return deleted.rowCount ?? 0;
}

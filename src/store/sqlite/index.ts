/**
 * The embedded SQLite store (better-sqlite3, WAL). One process owns the file; better-sqlite3 is
 * synchronous, so each method runs to completion without interleaving, and multi-statement
 * changes run in transactions. Durable against a killed process in every synchronous mode;
 * `synchronous=FULL` adds durability against power loss at some throughput cost.
 */
import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { bucketAttempts } from '../stats.js';
import {
  CLAIM_WINDOW_FACTOR,
  ENDPOINT_PATCH_COLUMNS,
  type ApiKeyRecord,
  type AttemptCompletion,
  type AutoDisablePolicy,
  type ClaimRoom,
  type AttemptRecord,
  type ClaimedDelivery,
  type DeliveryFilter,
  type DeliveryRecord,
  type DeliveryStatsBucket,
  type EndpointPatch,
  type EndpointRecord,
  type EndpointSummary,
  type EventRecord,
  type Page,
  type PublishInput,
  type PublishOutcome,
  type Store,
} from '../types.js';
import { toApiKey, toAttempt, toClaimed, toDelivery, toEndpoint, toEvent } from '../rows.js';
import { attemptParams, deliveryParams } from './rows.js';
import { SQLITE_MIGRATIONS } from './schema.js';
import { autoDisableReason } from '../../domain/endpoint.js';

/**
 * Due deliveries of enabled endpoints, oldest first, at most `room` per endpoint. Endpoints with
 * no room left are dropped before the window is cut, so a deep backlog on one endpoint cannot
 * hide the others; the window bounds the work of ranking per endpoint.
 */
const CLAIM_SQL = `
  WITH room AS (SELECT key AS endpoint_id, value AS n FROM json_each(@room)),
  due AS (
    SELECT d.id, d.endpoint_id, d.next_attempt_at, coalesce(r.n, e.max_concurrency, @default_room) AS room
    FROM deliveries d
    JOIN endpoints e ON e.id = d.endpoint_id
    LEFT JOIN room r ON r.endpoint_id = d.endpoint_id
    WHERE d.status = 'pending' AND d.next_attempt_at <= @now
      AND (d.lease_until IS NULL OR d.lease_until <= @now) AND e.status = 'enabled'
      AND coalesce(r.n, 1) > 0
    ORDER BY d.next_attempt_at LIMIT @window
  ),
  picked AS MATERIALIZED (
    SELECT id, next_attempt_at FROM (
      SELECT id, next_attempt_at, room, row_number() OVER (PARTITION BY endpoint_id ORDER BY next_attempt_at, id) AS rank FROM due
    ) WHERE rank <= room
    ORDER BY next_attempt_at, id LIMIT @limit
  )
  SELECT d.id, d.workspace_id, d.event_id, d.endpoint_id, d.attempts, d.max_attempts, ev.payload,
    e.url, e.secret, e.previous_secret, e.previous_secret_expires_at, e.max_concurrency, e.rate_limit
  FROM picked k
  CROSS JOIN deliveries d ON d.id = k.id -- CROSS JOIN keeps the few picked rows as the outer loop
  JOIN endpoints e ON e.id = d.endpoint_id
  JOIN events ev ON ev.id = d.event_id
  ORDER BY k.next_attempt_at, k.id`;

export interface SqliteOptions {
  /** File path, or ':memory:'. */
  path: string;
  synchronous: 'OFF' | 'NORMAL' | 'FULL';
}


export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly work = new EventEmitter();

  constructor(options: SqliteOptions) {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    this.db = new Database(options.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.synchronous}`);
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    const done = this.stmt('SELECT coalesce(max(version), 0) AS v FROM schema_migrations').get() as { v: number };
    SQLITE_MIGRATIONS.forEach((sql, i) => {
      const version = i + 1;
      if (version <= done.v) return;
      this.db.transaction(() => {
        this.db.exec(sql);
        this.stmt('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(version, Date.now());
      })();
    });
  }

  private readonly statements = new Map<string, Database.Statement>();

  /** Prepared statements are compiled once per distinct SQL text and reused. */
  private stmt(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  onWork(listener: () => void): void {
    this.work.on('work', listener);
  }

  private announceWork(): void {
    this.work.emit('work');
  }

  async close(): Promise<void> {
    this.work.removeAllListeners();
    this.db.close();
  }

  // ── workspaces and keys ────────────────────────────────────────────────

  async createWorkspace(id: string, name: string, now: number): Promise<void> {
    this.stmt('INSERT INTO workspaces (id, name, created_at) VALUES (?, ?, ?)').run(id, name, now);
  }

  async countWorkspaces(): Promise<number> {
    return (this.stmt('SELECT count(*) AS n FROM workspaces').get() as { n: number }).n;
  }

  async insertApiKey(key: ApiKeyRecord): Promise<void> {
    this.stmt('INSERT INTO api_keys (id, workspace_id, prefix, hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(key.id, key.workspaceId, key.prefix, key.hash, key.createdAt, key.revokedAt);
  }

  async findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const row = this.stmt('SELECT * FROM api_keys WHERE hash = ? AND revoked_at IS NULL').get(hash);
    return row ? toApiKey(row as Record<string, unknown>) : undefined;
  }

  async listApiKeys(workspaceId: string): Promise<ApiKeyRecord[]> {
    return this.stmt('SELECT * FROM api_keys WHERE workspace_id = ? ORDER BY id')
      .all(workspaceId)
      .map((r) => toApiKey(r as Record<string, unknown>));
  }

  async revokeApiKey(workspaceId: string, keyId: string, now: number): Promise<boolean> {
    const result = this.stmt('UPDATE api_keys SET revoked_at = ? WHERE workspace_id = ? AND id = ? AND revoked_at IS NULL')
      .run(now, workspaceId, keyId);
    return result.changes > 0;
  }

  // ── endpoints ──────────────────────────────────────────────────────────

  async insertEndpoint(e: EndpointRecord): Promise<void> {
    this.stmt(
        `INSERT INTO endpoints (id, workspace_id, url, description, events, status, disabled_reason, secret,
           previous_secret, previous_secret_expires_at, max_concurrency, rate_limit, consecutive_failures, failing_since,
           created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(e.id, e.workspaceId, e.url, e.description, JSON.stringify(e.events), e.status, e.disabledReason, e.secret,
        e.previousSecret, e.previousSecretExpiresAt, e.maxConcurrency, e.rateLimit, e.consecutiveFailures, e.failingSince,
        e.createdAt, e.updatedAt);
  }

  async getEndpoint(workspaceId: string, id: string): Promise<EndpointRecord | undefined> {
    const row = this.stmt('SELECT * FROM endpoints WHERE workspace_id = ? AND id = ?').get(workspaceId, id);
    return row ? toEndpoint(row as Record<string, unknown>) : undefined;
  }

  async listEndpoints(workspaceId: string): Promise<EndpointRecord[]> {
    return this.stmt('SELECT * FROM endpoints WHERE workspace_id = ? ORDER BY id')
      .all(workspaceId)
      .map((r) => toEndpoint(r as Record<string, unknown>));
  }

  async updateEndpoint(workspaceId: string, id: string, patch: EndpointPatch, now: number): Promise<EndpointRecord | undefined> {
    const sets = ['updated_at = @updated_at'];
    const params: Record<string, unknown> = { workspace_id: workspaceId, id, updated_at: now };
    for (const [key, value] of Object.entries(patch) as [keyof EndpointPatch, unknown][]) {
      if (value === undefined) continue;
      const column = ENDPOINT_PATCH_COLUMNS[key];
      sets.push(`${column} = @${column}`);
      params[column] = key === 'events' ? JSON.stringify(value) : value;
    }
    const row = this.stmt(`UPDATE endpoints SET ${sets.join(', ')} WHERE workspace_id = @workspace_id AND id = @id RETURNING *`)
      .get(params);
    if (!row) return undefined;
    if (patch.status === 'enabled') this.announceWork();
    return toEndpoint(row as Record<string, unknown>);
  }

  async deleteEndpoint(workspaceId: string, id: string): Promise<boolean> {
    return this.stmt('DELETE FROM endpoints WHERE workspace_id = ? AND id = ?').run(workspaceId, id).changes > 0;
  }

  // ── events and deliveries ──────────────────────────────────────────────

  private readonly insertEventStmt = () =>
    this.stmt(
      `INSERT INTO events (id, workspace_id, type, payload, created_at, fanout, is_test, idempotency_key, request_hash)
       VALUES (@id, @workspace_id, @type, @payload, @created_at, @fanout, @is_test, @idempotency_key, @request_hash)`,
    );

  private readonly insertDeliveryStmt = () =>
    this.stmt(
      `INSERT INTO deliveries (id, workspace_id, event_id, endpoint_id, event_type, status, attempts, max_attempts,
         next_attempt_at, last_status_code, last_error, is_test, created_at, updated_at)
       VALUES (@id, @workspace_id, @event_id, @endpoint_id, @event_type, @status, @attempts, @max_attempts,
         @next_attempt_at, @last_status_code, @last_error, @is_test, @created_at, @updated_at)`,
    );

  private insertEvent(e: EventRecord, idempotencyKey: string | null, requestHash: string | null): void {
    this.insertEventStmt().run({
      id: e.id,
      workspace_id: e.workspaceId,
      type: e.type,
      payload: e.payload,
      created_at: e.createdAt,
      fanout: e.fanout,
      is_test: e.isTest ? 1 : 0,
      idempotency_key: idempotencyKey,
      request_hash: requestHash,
    });
  }

  async publish(input: PublishInput): Promise<PublishOutcome> {
    const outcome = this.db.transaction((): PublishOutcome => {
      if (input.idempotencyKey !== undefined) {
        const row = this.stmt('SELECT * FROM events WHERE workspace_id = ? AND idempotency_key = ?')
          .get(input.event.workspaceId, input.idempotencyKey) as Record<string, unknown> | undefined;
        if (row) return { created: false, event: toEvent(row), requestHash: (row.request_hash as string | null) ?? null };
      }
      this.insertEvent(input.event, input.idempotencyKey ?? null, input.requestHash ?? null);
      const insertDelivery = this.insertDeliveryStmt();
      for (const d of input.deliveries) insertDelivery.run(deliveryParams(d));
      return { created: true, event: input.event };
    })();
    if (outcome.created && input.deliveries.length > 0) this.announceWork();
    return outcome;
  }

  async getEvent(workspaceId: string, id: string): Promise<EventRecord | undefined> {
    const row = this.stmt('SELECT * FROM events WHERE workspace_id = ? AND id = ?').get(workspaceId, id);
    return row ? toEvent(row as Record<string, unknown>) : undefined;
  }

  async listDeliveriesForEvent(workspaceId: string, eventId: string): Promise<DeliveryRecord[]> {
    return this.stmt('SELECT * FROM deliveries WHERE workspace_id = ? AND event_id = ? ORDER BY id')
      .all(workspaceId, eventId)
      .map((r) => toDelivery(r as Record<string, unknown>));
  }

  async listDeliveries(workspaceId: string, endpointId: string, filter: DeliveryFilter): Promise<Page<DeliveryRecord>> {
    const where = ['workspace_id = @workspace_id', 'endpoint_id = @endpoint_id'];
    if (filter.status) where.push('status = @status');
    if (filter.eventType) where.push('event_type = @event_type');
    if (filter.cursor) where.push('id < @cursor');
    const rows = this.stmt(`SELECT * FROM deliveries WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT @limit`)
      .all({
        workspace_id: workspaceId,
        endpoint_id: endpointId,
        status: filter.status,
        event_type: filter.eventType,
        cursor: filter.cursor,
        limit: filter.limit + 1,
      })
      .map((r) => toDelivery(r as Record<string, unknown>));
    const more = rows.length > filter.limit;
    const data = more ? rows.slice(0, filter.limit) : rows;
    return { data, nextCursor: more ? data[data.length - 1]!.id : null };
  }

  async getDelivery(workspaceId: string, id: string): Promise<DeliveryRecord | undefined> {
    const row = this.stmt('SELECT * FROM deliveries WHERE workspace_id = ? AND id = ?').get(workspaceId, id);
    return row ? toDelivery(row as Record<string, unknown>) : undefined;
  }

  async listAttempts(workspaceId: string, deliveryId: string): Promise<AttemptRecord[]> {
    return this.stmt('SELECT * FROM attempts WHERE workspace_id = ? AND delivery_id = ? ORDER BY number, started_at')
      .all(workspaceId, deliveryId)
      .map((r) => toAttempt(r as Record<string, unknown>));
  }

  async requeueDelivery(workspaceId: string, id: string, now: number): Promise<DeliveryRecord | undefined> {
    // An attempt in flight keeps its lease; the requeue only takes effect after it.
    const row = this.stmt(
        `UPDATE deliveries SET status = 'pending', next_attempt_at = @now, max_attempts = max(max_attempts, attempts + 1),
           lease_owner = CASE WHEN lease_until > @now THEN lease_owner END,
           lease_until = CASE WHEN lease_until > @now THEN lease_until END,
           updated_at = @now
         WHERE workspace_id = @workspace_id AND id = @id RETURNING *`,
      )
      .get({ workspace_id: workspaceId, id, now });
    if (!row) return undefined;
    this.announceWork();
    return toDelivery(row as Record<string, unknown>);
  }

  async recordTestSend(event: EventRecord, delivery: DeliveryRecord, attempt: AttemptRecord): Promise<void> {
    this.db.transaction(() => {
      this.insertEvent(event, null, null);
      this.insertDeliveryStmt().run(deliveryParams(delivery));
      this.insertAttempt(attempt);
    })();
  }

  private insertAttempt(a: AttemptRecord): void {
    this.stmt(
        `INSERT INTO attempts (id, delivery_id, workspace_id, endpoint_id, number, started_at, duration_ms, ok, failure,
           request_url, request_headers, response_status, response_headers, response_body, response_body_truncated, error)
         VALUES (@id, @delivery_id, @workspace_id, @endpoint_id, @number, @started_at, @duration_ms, @ok, @failure,
           @request_url, @request_headers, @response_status, @response_headers, @response_body, @response_body_truncated, @error)`,
      )
      .run(attemptParams(a));
  }

  async deliveryStats(workspaceId: string, endpointId: string, since: number, bucketMs: number): Promise<DeliveryStatsBucket[]> {
    const points = this.stmt(
        `SELECT started_at AS startedAt, duration_ms AS durationMs, ok FROM attempts
         WHERE workspace_id = ? AND endpoint_id = ? AND started_at >= ?`,
      )
      .all(workspaceId, endpointId, since)
      .map((r) => {
        const p = r as { startedAt: number; durationMs: number; ok: number };
        return { startedAt: p.startedAt, durationMs: p.durationMs, ok: p.ok === 1 };
      });
    return bucketAttempts(points, since, Date.now(), bucketMs);
  }

  async endpointSummaries(workspaceId: string, since: number): Promise<EndpointSummary[]> {
    const rows = this.stmt(
        `SELECT e.id AS endpointId, count(a.id) AS attempts, coalesce(sum(a.ok), 0) AS succeeded,
           max(a.started_at) AS lastAttemptAt,
           (SELECT ok FROM attempts l WHERE l.endpoint_id = e.id ORDER BY l.started_at DESC LIMIT 1) AS lastOk
         FROM endpoints e LEFT JOIN attempts a ON a.endpoint_id = e.id AND a.started_at >= ?
         WHERE e.workspace_id = ? GROUP BY e.id ORDER BY e.id`,
      )
      .all(since, workspaceId) as { endpointId: string; attempts: number; succeeded: number; lastAttemptAt: number | null; lastOk: number | null }[];
    return rows.map((r) => ({
      endpointId: r.endpointId,
      attempts: r.attempts,
      succeeded: r.succeeded,
      lastAttemptAt: r.lastAttemptAt,
      lastAttemptOk: r.lastAttemptAt === null ? null : r.lastOk === 1,
    }));
  }

  // ── the delivery queue ─────────────────────────────────────────────────

  async claimDue(workerId: string, now: number, limit: number, leaseMs: number, room: ClaimRoom): Promise<ClaimedDelivery[]> {
    if (limit <= 0) return [];
    return this.db.transaction(() => {
      const rows = this.stmt(CLAIM_SQL).all({
        now,
        limit,
        window: limit * CLAIM_WINDOW_FACTOR,
        default_room: room.defaultPerEndpoint,
        room: JSON.stringify(room.room),
      }) as Record<string, unknown>[];
      const lease = this.stmt('UPDATE deliveries SET lease_owner = ?, lease_until = ? WHERE id = ?');
      for (const r of rows) lease.run(workerId, now + leaseMs, r.id);
      return rows.map(toClaimed);
    })();
  }

  async completeAttempts(workerId: string, completions: AttemptCompletion[], now: number, autoDisable: AutoDisablePolicy): Promise<void> {
    const exists = this.stmt('SELECT 1 FROM deliveries WHERE id = ?').pluck();
    const update = this.stmt(
      `UPDATE deliveries SET status = @status, attempts = max(attempts, @number), next_attempt_at = @next_attempt_at,
         last_status_code = @last_status_code, last_error = @last_error, lease_owner = NULL, lease_until = NULL,
         updated_at = @now
       WHERE id = @id AND lease_owner = @worker`,
    );
    const healthy = this.stmt(
      'UPDATE endpoints SET consecutive_failures = 0, failing_since = NULL WHERE id = ? AND (consecutive_failures > 0 OR failing_since IS NOT NULL)',
    );
    const failing = this.stmt(
      `UPDATE endpoints SET failing_since = coalesce(failing_since, @started_at),
         consecutive_failures = consecutive_failures + @ended_failed WHERE id = @id`,
    );
    const disable = this.stmt(
      `UPDATE endpoints SET status = 'disabled', disabled_reason = @reason, updated_at = @now
       WHERE id = @id AND status = 'enabled' AND (@forced OR (consecutive_failures >= @min_failed AND failing_since <= @since))`,
    );
    this.db.transaction(() => {
      for (const { attempt, next } of completions) {
        // The endpoint (and with it the delivery) may have been deleted while the attempt ran.
        if (!exists.get(attempt.deliveryId)) continue;
        this.insertAttempt(attempt);
        const applied = update.run({
          id: attempt.deliveryId,
          worker: workerId,
          status: next.status,
          number: attempt.number,
          next_attempt_at: next.status === 'pending' ? next.nextAttemptAt : null,
          last_status_code: attempt.responseStatus,
          last_error: attempt.error,
          now,
        }).changes;
        if (attempt.ok) {
          healthy.run(attempt.endpointId);
          continue;
        }
        const endedFailed = applied > 0 && next.status === 'failed';
        failing.run({ id: attempt.endpointId, started_at: attempt.startedAt, ended_failed: endedFailed ? 1 : 0 });
        const forced = next.status === 'failed' && next.disableEndpoint !== undefined;
        disable.run({
          id: attempt.endpointId,
          now,
          forced: forced ? 1 : 0,
          reason: forced ? next.disableEndpoint : autoDisableReason(autoDisable),
          min_failed: autoDisable.minFailedDeliveries,
          since: now - autoDisable.failingForMs,
        });
      }
    })();
  }

  async nextDueAt(after: number): Promise<number | undefined> {
    const row = this.stmt(
      `SELECT d.next_attempt_at AS t FROM deliveries d JOIN endpoints e ON e.id = d.endpoint_id
       WHERE d.status = 'pending' AND d.next_attempt_at > ? AND e.status = 'enabled'
       ORDER BY d.next_attempt_at LIMIT 1`,
    ).get(after) as { t: number } | undefined;
    return row?.t;
  }

  // ── retention ──────────────────────────────────────────────────────────

  async purgeBefore(cutoff: number, batchSize: number): Promise<number> {
    return this.db.transaction(() => {
      const deleted = this.stmt(
          `DELETE FROM deliveries WHERE id IN (
             SELECT id FROM deliveries WHERE status <> 'pending' AND updated_at < ? LIMIT ?)`,
        )
        .run(cutoff, batchSize).changes;
      this.stmt(
          `DELETE FROM events WHERE id IN (
             SELECT id FROM events ev WHERE created_at < ?
               AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = ev.id) LIMIT ?)`,
        )
        .run(cutoff, batchSize);
      return deleted;
    })();
  }
}

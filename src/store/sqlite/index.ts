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
import { CommitGroup, PUBLISH_GROUP_MAX } from '../commit-group.js';
import { healthChanges, mayDisable } from '../health.js';
import { autoDisableReason } from '../../domain/endpoint.js';

const isForeignKeyError = (err: unknown) => err instanceof Database.SqliteError && err.code === 'SQLITE_CONSTRAINT_FOREIGNKEY';

/**
 * Due deliveries of enabled endpoints, oldest first. Endpoints with no room left are dropped in
 * SQL, so a deep backlog on one endpoint at its cap is skipped inside the index scan; the caller
 * reads rows one by one and stops as soon as the claim is full.
 */
const DUE_SQL = `
  SELECT d.id, d.endpoint_id, e.max_concurrency
  FROM deliveries d JOIN endpoints e ON e.id = d.endpoint_id
  WHERE d.status = 'pending' AND d.next_attempt_at <= @now
    AND (d.lease_until IS NULL OR d.lease_until <= @now) AND e.status = 'enabled'
    AND d.endpoint_id NOT IN (SELECT value FROM json_each(@full))
  ORDER BY d.next_attempt_at LIMIT @window`;

/** Takes the lease on one picked delivery and returns what an attempt needs. */
const LEASE_SQL = `
  UPDATE deliveries SET lease_owner = @worker, lease_until = @until, next_attempt_at = @until WHERE id = @id
  RETURNING id, workspace_id, event_id, endpoint_id, attempts, max_attempts,
    (SELECT payload FROM events WHERE events.id = deliveries.event_id) AS payload`;

const ENDPOINT_FOR_CLAIM_SQL = `
  SELECT url, secret, previous_secret, previous_secret_expires_at, max_concurrency, rate_limit FROM endpoints WHERE id = ?`;

/** Live API keys kept in memory, at most; a rare workspace with more simply looks the rest up. */
const LIVE_KEYS_CACHED = 10_000;

/** A streak that ended is replaced; the row is only written when that changes it. */
const HEALTH_RESET_SQL = `
  UPDATE endpoints SET consecutive_failures = @failed, failing_since = @since
  WHERE id = @id AND (consecutive_failures <> @failed OR failing_since IS NOT @since)`;
const HEALTH_WORSEN_SQL = `
  UPDATE endpoints SET consecutive_failures = consecutive_failures + @failed, failing_since = coalesce(failing_since, @since)
  WHERE id = @id`;
const DISABLE_SQL = `
  UPDATE endpoints SET status = 'disabled', disabled_reason = @reason, updated_at = @now
  WHERE id = @id AND status = 'enabled' AND (@forced OR (consecutive_failures >= @min_failed AND failing_since <= @failing_before))`;

export interface SqliteOptions {
  /** File path, or ':memory:'. */
  path: string;
  synchronous: 'OFF' | 'NORMAL' | 'FULL';
  /** Page cache size in MB; left out, SQLite's own default (2 MB), which a busy queue soon outgrows. */
  cacheMb?: number;
}


export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly work = new EventEmitter();
  /**
   * Reads every publish and every API request makes, kept in memory. This process is the only
   * writer of the file (the CLI only adds keys, which a miss finds), so each cache is dropped
   * exactly where the rows it holds are written.
   */
  private readonly liveKeys = new Map<string, ApiKeyRecord>();
  private readonly endpointLists = new Map<string, readonly EndpointRecord[]>();

  constructor(options: SqliteOptions) {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    this.db = new Database(options.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.synchronous}`);
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    // A negative cache_size is in KiB. Without it, the indexes a publish and an attempt touch fall
    // out of the 2 MB default once the tables grow, and every write re-reads them from the OS.
    if (options.cacheMb !== undefined) this.db.pragma(`cache_size = -${Math.round(options.cacheMb * 1024)}`);
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
    const cached = this.liveKeys.get(hash);
    if (cached) return cached;
    const row = this.stmt('SELECT * FROM api_keys WHERE hash = ? AND revoked_at IS NULL').get(hash);
    if (!row) return undefined;
    const key = toApiKey(row as Record<string, unknown>);
    if (this.liveKeys.size >= LIVE_KEYS_CACHED) this.liveKeys.clear();
    this.liveKeys.set(hash, key);
    return key;
  }

  async listApiKeys(workspaceId: string): Promise<ApiKeyRecord[]> {
    return this.stmt('SELECT * FROM api_keys WHERE workspace_id = ? ORDER BY id')
      .all(workspaceId)
      .map((r) => toApiKey(r as Record<string, unknown>));
  }

  async revokeApiKey(workspaceId: string, keyId: string, now: number): Promise<boolean> {
    const result = this.stmt('UPDATE api_keys SET revoked_at = ? WHERE workspace_id = ? AND id = ? AND revoked_at IS NULL')
      .run(now, workspaceId, keyId);
    this.liveKeys.clear();
    return result.changes > 0;
  }

  // ── endpoints ──────────────────────────────────────────────────────────

  async insertEndpoint(e: EndpointRecord): Promise<void> {
    this.endpointLists.delete(e.workspaceId);
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
    let list = this.endpointLists.get(workspaceId);
    if (!list) {
      list = this.stmt('SELECT * FROM endpoints WHERE workspace_id = ? ORDER BY id')
        .all(workspaceId)
        .map((r) => Object.freeze(toEndpoint(r as Record<string, unknown>)));
      this.endpointLists.set(workspaceId, list);
    }
    return [...list];
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
    this.endpointLists.delete(workspaceId);
    if (patch.status === 'enabled') this.announceWork();
    return toEndpoint(row as Record<string, unknown>);
  }

  async deleteEndpoint(workspaceId: string, id: string): Promise<boolean> {
    this.endpointLists.delete(workspaceId);
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
         next_attempt_at, lease_owner, lease_until, last_status_code, last_error, is_test, created_at, updated_at)
       VALUES (@id, @workspace_id, @event_id, @endpoint_id, @event_type, @status, @attempts, @max_attempts,
         @next_attempt_at, @lease_owner, @lease_until, @last_status_code, @last_error, @is_test, @created_at, @updated_at)`,
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

  /** Publishes arriving together share one transaction (see commit-group.ts). */
  private readonly publishes = new CommitGroup<PublishInput, PublishOutcome>({
    runBatch: (inputs) => this.db.transaction(() => inputs.map((input) => this.insertPublished(input)))(),
    runOne: (input) => this.db.transaction(() => this.insertPublished(input))(),
    maxBatch: PUBLISH_GROUP_MAX,
  });

  async publish(input: PublishInput): Promise<PublishOutcome> {
    const outcome = await this.publishes.submit(input);
    // Deliveries handed to a worker at publish are its already; only the rest are news to claimers.
    if (outcome.created && input.deliveries.some((d) => !d.lease)) this.announceWork();
    return outcome;
  }

  /** Runs inside a transaction. */
  private insertPublished(input: PublishInput): PublishOutcome {
    if (input.idempotencyKey !== undefined) {
      const row = this.stmt('SELECT * FROM events WHERE workspace_id = ? AND idempotency_key = ?')
        .get(input.event.workspaceId, input.idempotencyKey) as Record<string, unknown> | undefined;
      if (row) return { created: false, event: toEvent(row), requestHash: (row.request_hash as string | null) ?? null };
    }
    this.insertEvent(input.event, input.idempotencyKey ?? null, input.requestHash ?? null);
    const insertDelivery = this.insertDeliveryStmt();
    let gone: Set<string> | undefined;
    for (const d of input.deliveries) {
      try {
        insertDelivery.run(deliveryParams(d));
      } catch (err) {
        // A failed statement leaves the rest of the transaction standing, so a delivery to an
        // endpoint deleted since the publish listed it is simply left out (rare: never on the hot path).
        if (!isForeignKeyError(err) || this.stmt('SELECT 1 FROM endpoints WHERE id = ?').get(d.endpointId)) throw err;
        (gone ??= new Set()).add(d.endpointId);
      }
    }
    if (!gone) return { created: true, event: input.event };
    const event = { ...input.event, fanout: input.event.fanout - gone.size };
    this.stmt('UPDATE events SET fanout = ? WHERE id = ?').run(event.fanout, event.id);
    return { created: true, event, endpointsGone: gone };
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

  /** Records an attempt unless its delivery is gone; says whether it did. */
  private insertAttempt(a: AttemptRecord): boolean {
    return this.stmt(
        `INSERT INTO attempts (id, delivery_id, workspace_id, endpoint_id, number, started_at, duration_ms, ok, failure,
           request_url, request_headers, response_status, response_headers, response_body, response_body_truncated, error)
         SELECT @id, @delivery_id, @workspace_id, @endpoint_id, @number, @started_at, @duration_ms, @ok, @failure,
           @request_url, @request_headers, @response_status, @response_headers, @response_body, @response_body_truncated, @error
         WHERE EXISTS (SELECT 1 FROM deliveries WHERE id = @delivery_id)`,
      )
      .run(attemptParams(a)).changes > 0;
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
    const left = new Map(Object.entries(room.room));
    const full = [...left].filter(([, n]) => n <= 0).map(([id]) => id);
    return this.db.transaction(() => {
      const picked: string[] = [];
      const due = this.stmt(DUE_SQL).iterate({ now, window: limit * CLAIM_WINDOW_FACTOR, full: JSON.stringify(full) });
      for (const row of due as Iterable<{ id: string; endpoint_id: string; max_concurrency: number | null }>) {
        const n = left.get(row.endpoint_id) ?? row.max_concurrency ?? room.defaultPerEndpoint;
        if (n <= 0) continue;
        left.set(row.endpoint_id, n - 1);
        picked.push(row.id);
        if (picked.length === limit) break;
      }
      const lease = this.stmt(LEASE_SQL);
      const endpoint = this.stmt(ENDPOINT_FOR_CLAIM_SQL);
      const endpoints = new Map<string, Record<string, unknown>>();
      return picked.map((id) => {
        const d = lease.get({ worker: workerId, until: now + leaseMs, id }) as Record<string, unknown>;
        const endpointId = d.endpoint_id as string;
        let e = endpoints.get(endpointId);
        if (!e) endpoints.set(endpointId, (e = endpoint.get(endpointId) as Record<string, unknown>));
        return toClaimed({ ...d, ...e });
      });
    })();
  }

  async completeAttempts(workerId: string, completions: AttemptCompletion[], now: number, autoDisable: AutoDisablePolicy): Promise<void> {
    const update = this.stmt(
      `UPDATE deliveries SET status = @status, attempts = max(attempts, @number), next_attempt_at = @next_attempt_at,
         last_status_code = @last_status_code, last_error = @last_error, lease_owner = NULL, lease_until = NULL,
         updated_at = @now
       WHERE id = @id AND lease_owner = @worker`,
    );
    this.db.transaction(() => {
      const alive: AttemptCompletion[] = [];
      const endedFailed = new Set<string>();
      for (const c of completions) {
        const { attempt, next } = c;
        // The endpoint (and with it the delivery) may have been deleted while the attempt ran.
        if (!this.insertAttempt(attempt)) continue;
        alive.push(c);
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
        if (applied > 0 && next.status === 'failed') endedFailed.add(attempt.deliveryId);
      }
      for (const [endpointId, change] of healthChanges(alive, (c) => endedFailed.has(c.attempt.deliveryId))) {
        const changed = this.stmt(change.reset ? HEALTH_RESET_SQL : HEALTH_WORSEN_SQL)
          .run({ id: endpointId, failed: change.failedDeliveries, since: change.failingSince }).changes;
        if (changed > 0) this.endpointLists.clear();
        if (!mayDisable(change)) continue;
        const disabled = this.stmt(DISABLE_SQL).run({
          id: endpointId,
          now,
          forced: change.disableReason === null ? 0 : 1,
          reason: change.disableReason ?? autoDisableReason(autoDisable),
          min_failed: autoDisable.minFailedDeliveries,
          failing_before: now - autoDisable.failingForMs,
        }).changes;
        if (disabled > 0) this.endpointLists.clear();
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

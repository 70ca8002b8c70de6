/**
 * The shared PostgreSQL store: any number of nodes run against one database. Every method is one
 * statement or one transaction on a pooled connection, so it rejects (and the caller retries)
 * when the database is unreachable; a lost connection never becomes an uncaught exception.
 * Wake-ups between nodes travel by LISTEN/NOTIFY (listener.ts); the queue lives in queue.ts.
 */
import type pg from 'pg';
import { bucketAttempts } from '../stats.js';
import {
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
import { clientConfig, createPool, inTransaction, migrate, type Row } from './db.js';
import { NOTIFY_WORK_CALL, NOTIFY_WORK_SQL, WorkListener, silentLogger, type StoreLogger } from './listener.js';
import * as queue from './queue.js';
import { CommitGroup, PUBLISH_GROUP_MAX } from '../commit-group.js';
import {
  ATTEMPT_COLUMNS, DELIVERY_COLUMNS, EVENT_COLUMNS, bulkInsert, int, intOrNull, strOrNull,
  toApiKey, toAttempt, toDelivery, toEndpoint, toEvent,
} from './rows.js';

export type { StoreLogger } from './listener.js';

export interface PostgresOptions {
  /** postgres://user:password@host:port/database (libpq-style parameters allowed). */
  connectionString: string;
  /** Connections in this node's pool (the LISTEN connection comes on top). */
  poolSize: number;
  /** statement_timeout of every pooled connection, in ms; 0 = none. */
  statementTimeoutMs: number;
  /** How long to wait for a connection, new or from a busy pool, before failing; default 10 s. */
  connectTimeoutMs?: number;
  /** Receives the trouble the store handles by itself (pino fits); silent when left out. */
  logger?: StoreLogger;
}

/** Inserting an event whose idempotency key is taken does nothing, whoever took it and when. */
const ON_KEY_TAKEN = 'ON CONFLICT (workspace_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING';

/**
 * Writes the deliveries whose endpoint still exists, in one statement, and returns those
 * endpoints. An endpoint deleted since its publish listed it is left out, as if the delete had
 * come first: FOR KEY SHARE waits for a delete in progress and then skips the deleted row (the
 * deliveries' foreign keys would wait the same way, and then fail), and keeps the rest from being
 * deleted until the commit.
 */
async function insertDeliveriesOfLiveEndpoints(client: pg.PoolClient, deliveries: DeliveryRecord[]): Promise<Set<string>> {
  const insert = bulkInsert('deliveries', DELIVERY_COLUMNS, deliveries);
  const endpointIds = [...new Set(deliveries.map((d) => d.endpointId))];
  const { rows } = await client.query<{ id: string }>({
    text: `WITH live AS (SELECT id FROM endpoints WHERE id = ANY($${insert.values.length + 1}::text[]) FOR KEY SHARE),
      written AS (${insert.text} WHERE u.endpoint_id IN (SELECT id FROM live))
      SELECT id FROM live`,
    values: [...insert.values, endpointIds],
  });
  return new Set(rows.map((r) => r.id));
}

export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly work: WorkListener;
  private closing: Promise<void> | undefined;

  /** Connects, migrates (under an advisory lock) and returns a ready store; rejects if the database is unreachable. */
  static async open(options: PostgresOptions): Promise<PostgresStore> {
    const connection = { connectionString: options.connectionString, connectTimeoutMs: options.connectTimeoutMs ?? 10_000 };
    await migrate(connection);
    return new PostgresStore({ ...options, ...connection }, options.logger ?? silentLogger);
  }

  private constructor(options: PostgresOptions & { connectTimeoutMs: number }, log: StoreLogger) {
    this.pool = createPool(options, log);
    this.work = new WorkListener(clientConfig(options, 'socialflow-webhooks-listen'), log);
  }

  onWork(listener: () => void): void {
    this.work.add(listener);
  }

  async close(): Promise<void> {
    this.closing ??= (async () => {
      await this.work.close();
      await this.pool.end();
    })();
    return this.closing;
  }

  private async rows(text: string, values: unknown[] = []): Promise<Row[]> {
    return (await this.pool.query(text, values)).rows as Row[];
  }

  private async changed(text: string, values: unknown[]): Promise<boolean> {
    return ((await this.pool.query(text, values)).rowCount ?? 0) > 0;
  }

  // ── workspaces and keys ────────────────────────────────────────────────

  async createWorkspace(id: string, name: string, now: number): Promise<void> {
    await this.pool.query('INSERT INTO workspaces (id, name, created_at) VALUES ($1, $2, $3)', [id, name, now]);
  }

  async countWorkspaces(): Promise<number> {
    return int((await this.rows('SELECT count(*) AS n FROM workspaces'))[0]?.n);
  }

  async insertApiKey(key: ApiKeyRecord): Promise<void> {
    await this.pool.query('INSERT INTO api_keys (id, workspace_id, prefix, hash, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6)', [
      key.id, key.workspaceId, key.prefix, key.hash, key.createdAt, key.revokedAt,
    ]);
  }

  async findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const [row] = await this.rows('SELECT * FROM api_keys WHERE hash = $1 AND revoked_at IS NULL', [hash]);
    return row ? toApiKey(row) : undefined;
  }

  async listApiKeys(workspaceId: string): Promise<ApiKeyRecord[]> {
    return (await this.rows('SELECT * FROM api_keys WHERE workspace_id = $1 ORDER BY id', [workspaceId])).map(toApiKey);
  }

  async revokeApiKey(workspaceId: string, keyId: string, now: number): Promise<boolean> {
    return this.changed('UPDATE api_keys SET revoked_at = $1 WHERE workspace_id = $2 AND id = $3 AND revoked_at IS NULL', [now, workspaceId, keyId]);
  }

  // ── endpoints ──────────────────────────────────────────────────────────

  async insertEndpoint(e: EndpointRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO endpoints (id, workspace_id, url, description, events, status, disabled_reason, secret,
         previous_secret, previous_secret_expires_at, max_concurrency, rate_limit, consecutive_failures, failing_since,
         created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
      [e.id, e.workspaceId, e.url, e.description, JSON.stringify(e.events), e.status, e.disabledReason, e.secret,
        e.previousSecret, e.previousSecretExpiresAt, e.maxConcurrency, e.rateLimit, e.consecutiveFailures, e.failingSince,
        e.createdAt, e.updatedAt],
    );
  }

  async getEndpoint(workspaceId: string, id: string): Promise<EndpointRecord | undefined> {
    const [row] = await this.rows('SELECT * FROM endpoints WHERE workspace_id = $1 AND id = $2', [workspaceId, id]);
    return row ? toEndpoint(row) : undefined;
  }

  async listEndpoints(workspaceId: string): Promise<EndpointRecord[]> {
    return (await this.rows('SELECT * FROM endpoints WHERE workspace_id = $1 ORDER BY id', [workspaceId])).map(toEndpoint);
  }

  async updateEndpoint(workspaceId: string, id: string, patch: EndpointPatch, now: number): Promise<EndpointRecord | undefined> {
    const values: unknown[] = [workspaceId, id, now];
    const sets = ['updated_at = $3'];
    for (const [key, value] of Object.entries(patch) as [keyof EndpointPatch, unknown][]) {
      const column = ENDPOINT_PATCH_COLUMNS[key];
      if (value === undefined || column === undefined) continue;
      values.push(key === 'events' ? JSON.stringify(value) : value);
      sets.push(`${column} = $${values.length}`);
    }
    const update = `UPDATE endpoints SET ${sets.join(', ')} WHERE workspace_id = $1 AND id = $2 RETURNING *`;
    // Enabling makes the endpoint's waiting deliveries due: notify in the same statement, so the
    // wake-up goes out exactly when the change commits, and only if a row changed.
    const text = patch.status === 'enabled' ? `WITH u AS (${update}) SELECT u.*, ${NOTIFY_WORK_CALL} AS notified FROM u` : update;
    const [row] = await this.rows(text, values);
    return row ? toEndpoint(row) : undefined;
  }

  async deleteEndpoint(workspaceId: string, id: string): Promise<boolean> {
    return this.changed('DELETE FROM endpoints WHERE workspace_id = $1 AND id = $2', [workspaceId, id]);
  }

  // ── events and deliveries ──────────────────────────────────────────────

  /** Publishes arriving together share one transaction, and so one commit (see commit-group.ts). */
  private readonly publishes = new CommitGroup<PublishInput, PublishOutcome>({
    runBatch: (inputs) => inTransaction(this.pool, (client) => this.insertPublished(client, inputs)),
    runOne: async (input) => (await inTransaction(this.pool, (client) => this.insertPublished(client, [input])))[0]!,
    maxBatch: PUBLISH_GROUP_MAX,
    // One group commits while the next forms: measured best here (a commit costs a WAL flush and a round trip).
    maxInFlight: 1,
  });

  publish(input: PublishInput): Promise<PublishOutcome> {
    return this.publishes.submit(input);
  }

  /**
   * Runs inside a transaction. Keyed publishes go one after the other, so a key repeated in the
   * group is a replay; every other event of the group is one insert, and all new deliveries one
   * more statement, which also leaves out endpoints deleted meanwhile.
   */
  private async insertPublished(client: pg.PoolClient, inputs: PublishInput[]): Promise<PublishOutcome[]> {
    const replays = new Map<number, PublishOutcome>();
    for (const [i, input] of inputs.entries()) {
      if (input.idempotencyKey === undefined) continue;
      const { event, idempotencyKey } = input;
      // A concurrent publish with the same key makes this wait for it; if it commits, ours does
      // nothing and the next statement (a fresh snapshot) reads the winner.
      const insert = bulkInsert('events', EVENT_COLUMNS, [input]);
      const inserted = await client.query({ ...insert, text: `${insert.text} ${ON_KEY_TAKEN}` });
      if (inserted.rowCount === 0) {
        const [row] = (await client.query('SELECT * FROM events WHERE workspace_id = $1 AND idempotency_key = $2', [
          event.workspaceId, idempotencyKey,
        ])).rows as Row[];
        // Only a purge between the two statements gets here; failing lets the caller retry.
        if (!row) throw new Error('The event holding this idempotency key vanished; retry the publish.');
        replays.set(i, { created: false, event: toEvent(row), requestHash: strOrNull(row.request_hash) });
      }
    }
    const unkeyed = inputs.filter((input) => input.idempotencyKey === undefined);
    if (unkeyed.length > 0) await client.query(bulkInsert('events', EVENT_COLUMNS, unkeyed));
    const created = inputs.filter((_, i) => !replays.has(i));
    const deliveries = created.flatMap((input) => input.deliveries);
    const live = deliveries.length > 0 ? await insertDeliveriesOfLiveEndpoints(client, deliveries) : new Set<string>();
    const outcomes: PublishOutcome[] = [];
    for (const [i, input] of inputs.entries()) {
      const replay = replays.get(i);
      const gone = replay ? undefined : new Set(input.deliveries.filter((d) => !live.has(d.endpointId)).map((d) => d.endpointId));
      if (!gone?.size) {
        outcomes.push(replay ?? { created: true, event: input.event });
        continue;
      }
      // Rare (a delete raced the publish): the event was written counting the deliveries left out.
      const event = { ...input.event, fanout: input.event.fanout - gone.size };
      await client.query('UPDATE events SET fanout = $2 WHERE id = $1', [event.id, event.fanout]);
      outcomes.push({ created: true, event, endpointsGone: gone });
    }
    // Deliveries handed to a worker at publish are its already; only the rest are news to claimers.
    if (deliveries.some((d) => !d.lease && live.has(d.endpointId))) await client.query(NOTIFY_WORK_SQL); // delivered on commit
    return outcomes;
  }

  async getEvent(workspaceId: string, id: string): Promise<EventRecord | undefined> {
    const [row] = await this.rows('SELECT * FROM events WHERE workspace_id = $1 AND id = $2', [workspaceId, id]);
    return row ? toEvent(row) : undefined;
  }

  async listDeliveriesForEvent(workspaceId: string, eventId: string): Promise<DeliveryRecord[]> {
    return (await this.rows('SELECT * FROM deliveries WHERE workspace_id = $1 AND event_id = $2 ORDER BY id', [workspaceId, eventId])).map(toDelivery);
  }

  async listDeliveries(workspaceId: string, endpointId: string, filter: DeliveryFilter): Promise<Page<DeliveryRecord>> {
    const values: unknown[] = [workspaceId, endpointId];
    const where = ['workspace_id = $1', 'endpoint_id = $2'];
    const add = (condition: string, value: unknown) => {
      values.push(value);
      where.push(`${condition} $${values.length}`);
    };
    if (filter.status) add('status =', filter.status);
    if (filter.eventType) add('event_type =', filter.eventType);
    // Ids are time-ordered and compared bytewise (COLLATE "C"), so the cursor is just the last id.
    if (filter.cursor) add('id <', filter.cursor);
    values.push(filter.limit + 1);
    const rows = (await this.rows(`SELECT * FROM deliveries WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT $${values.length}`, values)).map(toDelivery);
    const more = rows.length > filter.limit;
    const data = more ? rows.slice(0, filter.limit) : rows;
    return { data, nextCursor: more ? data[data.length - 1]!.id : null };
  }

  async getDelivery(workspaceId: string, id: string): Promise<DeliveryRecord | undefined> {
    const [row] = await this.rows('SELECT * FROM deliveries WHERE workspace_id = $1 AND id = $2', [workspaceId, id]);
    return row ? toDelivery(row) : undefined;
  }

  async listAttempts(workspaceId: string, deliveryId: string): Promise<AttemptRecord[]> {
    return (await this.rows('SELECT * FROM attempts WHERE workspace_id = $1 AND delivery_id = $2 ORDER BY number, started_at, id', [workspaceId, deliveryId]))
      .map(toAttempt);
  }

  async requeueDelivery(workspaceId: string, id: string, now: number): Promise<DeliveryRecord | undefined> {
    // An attempt in flight keeps its lease (its worker still reports it); the rest is due now.
    const [row] = await this.rows(
      `WITH r AS (
         UPDATE deliveries SET status = 'pending', next_attempt_at = $3::bigint, max_attempts = greatest(max_attempts, attempts + 1),
           lease_owner = CASE WHEN lease_until > $3::bigint THEN lease_owner END,
           lease_until = CASE WHEN lease_until > $3::bigint THEN lease_until END,
           updated_at = $3::bigint
         WHERE workspace_id = $1 AND id = $2 RETURNING *)
       SELECT r.*, ${NOTIFY_WORK_CALL} AS notified FROM r`,
      [workspaceId, id, now],
    );
    return row ? toDelivery(row) : undefined;
  }

  async recordTestSend(event: EventRecord, delivery: DeliveryRecord, attempt: AttemptRecord): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      await client.query(bulkInsert('events', EVENT_COLUMNS, [{ event }]));
      await client.query(bulkInsert('deliveries', DELIVERY_COLUMNS, [delivery]));
      await client.query(bulkInsert('attempts', ATTEMPT_COLUMNS, [attempt]));
    });
  }

  async deliveryStats(workspaceId: string, endpointId: string, since: number, bucketMs: number): Promise<DeliveryStatsBucket[]> {
    const rows = await this.rows(
      'SELECT started_at, duration_ms, ok FROM attempts WHERE workspace_id = $1 AND endpoint_id = $2 AND started_at >= $3::bigint',
      [workspaceId, endpointId, since],
    );
    const points = rows.map((r) => ({ startedAt: int(r.started_at), durationMs: int(r.duration_ms), ok: r.ok === true }));
    return bucketAttempts(points, since, Date.now(), bucketMs);
  }

  async endpointSummaries(workspaceId: string, since: number): Promise<EndpointSummary[]> {
    const rows = await this.rows(
      `SELECT e.id, count(a.id) AS attempts, count(a.id) FILTER (WHERE a.ok) AS succeeded, max(a.started_at) AS last_at,
         (SELECT l.ok FROM attempts l WHERE l.endpoint_id = e.id AND l.started_at >= $2::bigint
          ORDER BY l.started_at DESC, l.id DESC LIMIT 1) AS last_ok
       FROM endpoints e LEFT JOIN attempts a ON a.endpoint_id = e.id AND a.started_at >= $2::bigint
       WHERE e.workspace_id = $1 GROUP BY e.id ORDER BY e.id`,
      [workspaceId, since],
    );
    return rows.map((r) => {
      const lastAttemptAt = intOrNull(r.last_at);
      return {
        endpointId: r.id as string,
        attempts: int(r.attempts),
        succeeded: int(r.succeeded),
        lastAttemptAt,
        lastAttemptOk: lastAttemptAt === null ? null : r.last_ok === true,
      };
    });
  }

  // ── the delivery queue and retention (queue.ts) ────────────────────────

  claimDue(workerId: string, now: number, limit: number, leaseMs: number, room: ClaimRoom): Promise<ClaimedDelivery[]> {
    return queue.claimDue(this.pool, workerId, now, limit, leaseMs, room);
  }

  completeAttempts(workerId: string, completions: AttemptCompletion[], now: number, autoDisable: AutoDisablePolicy): Promise<void> {
    return queue.completeAttempts(this.pool, workerId, completions, now, autoDisable);
  }

  nextDueAt(after: number): Promise<number | undefined> {
    return queue.nextDueAt(this.pool, after);
  }

  purgeBefore(cutoff: number, batchSize: number): Promise<number> {
    return queue.purgeBefore(this.pool, cutoff, batchSize);
  }
}

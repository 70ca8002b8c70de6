/**
 * The Store contract on PostgreSQL, plus what only a shared backend must do: several nodes (pools)
 * on one database claim, publish and migrate at once, and the store survives lost connections.
 * Skipped with a notice when no server is reachable, unless CI is set.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { PostgresStore, type PostgresOptions, type StoreLogger } from '../../src/store/postgres/index.js';
import { POSTGRES_MIGRATIONS } from '../../src/store/postgres/schema.js';
import type { ClaimedDelivery } from '../../src/store/types.js';
import { createTestDatabase, skipReason, type TestDatabase } from '../helpers/postgres.js';
import { waitFor } from '../helpers/wait.js';
import { storeConformance } from './conformance.js';
import { ANY_ROOM, NO_AUTO_DISABLE, T0, attemptRecord, deliveryRecord, eventRecord, newEndpoint, newWorkspace, succeeded } from './fixtures.js';

/** Claiming at this time takes whatever a test made due. */
const FAR_PAST_DUE = T0 + 10_000_000;

const conformanceDb = await createTestDatabase();

if (!conformanceDb) {
  console.warn(`PostgreSQL store tests skipped: ${skipReason()}`);
  test('PostgreSQL store', { skip: skipReason() }, () => undefined);
} else {
  const db = conformanceDb;
  storeConformance('postgres', () => PostgresStore.open(options(db.url)), () => db.drop());
  sharedBackendTests();
}

function options(url: string, over: Partial<PostgresOptions> = {}): PostgresOptions {
  return { connectionString: url, poolSize: 5, statementTimeoutMs: 10_000, ...over };
}

/** Collects what the store logs, to check it reports trouble once rather than per retry. */
function recordingLogger(): StoreLogger & { lines: string[] } {
  const lines: string[] = [];
  const log = (level: string) => (_fields: object, message: string) => void lines.push(`${level}: ${message}`);
  return { lines, info: log('info'), warn: log('warn'), error: log('error') };
}

async function admin(url: string, sql: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql, values);
  } finally {
    await client.end();
  }
}

function sharedBackendTests(): void {
  describe('PostgreSQL as a shared backend', () => {
    let db: TestDatabase;
    const stores: PostgresStore[] = [];
    const open = async (over: Partial<PostgresOptions> = {}) => {
      const store = await PostgresStore.open(options(db.url, over));
      stores.push(store);
      return store;
    };
    before(async () => {
      db = (await createTestDatabase())!;
    });
    after(async () => {
      await Promise.all(stores.map((s) => s.close()));
      await db.drop();
    });

    test('nodes starting together migrate once', async () => {
      await Promise.all([open(), open(), open()]);
      const { rows } = await admin(db.url, 'SELECT version FROM schema_migrations ORDER BY version');
      assert.deepEqual(rows, POSTGRES_MIGRATIONS.map((_, i) => ({ version: i + 1 })));
    });

    test('three nodes claiming one queue get every delivery exactly once', async () => {
      const [a, b, c] = [await open(), await open(), await open()];
      const ws = await newWorkspace(a);
      const e = await newEndpoint(a, ws);
      for (let batch = 0; batch < 3; batch++) {
        const event = eventRecord(ws, { fanout: 100 });
        const deliveries = Array.from({ length: 100 }, (_, i) => deliveryRecord(event, e.id, { nextAttemptAt: T0 + i }));
        await a.publish({ event, deliveries });
      }
      const claimedBy = new Map<string, string[]>();
      const worker = async (store: PostgresStore, id: string) => {
        const mine: ClaimedDelivery[] = [];
        for (let round = 0; round < 200; round++) {
          const got = await store.claimDue(id, T0 + 1000, 7, 60_000, ANY_ROOM);
          mine.push(...got);
          if (got.length === 0 && round > 3) break;
        }
        claimedBy.set(id, mine.map((m) => m.deliveryId));
        // Complete concurrently too: fencing must accept each worker's own leases.
        await store.completeAttempts(id, mine.map((m) => succeeded({ id: m.deliveryId, workspaceId: ws, endpointId: e.id })), T0 + 2000, NO_AUTO_DISABLE);
      };
      // Several workers per pool, so claims also race within one node.
      await Promise.all([a, b, c].flatMap((s, i) => [worker(s, `n${i}-1`), worker(s, `n${i}-2`)]));
      const all = [...claimedBy.values()].flat();
      assert.equal(all.length, 300);
      assert.equal(new Set(all).size, 300);
      assert.ok([...claimedBy.values()].filter((ids) => ids.length > 0).length > 1, 'the work was shared');
      const { rows } = await admin(db.url, `SELECT status, count(*)::int AS n, count(lease_owner)::int AS leased FROM deliveries WHERE endpoint_id = $1 GROUP BY status`, [e.id]);
      assert.deepEqual(rows, [{ status: 'succeeded', n: 300, leased: 0 }]);
    });

    test('a publish racing a delete of its endpoint waits for it, then leaves that delivery out', async () => {
      const store = await open();
      const ws = await newWorkspace(store);
      const [kept, deleted] = [await newEndpoint(store, ws), await newEndpoint(store, ws)];
      const deleter = new pg.Client({ connectionString: db.url });
      await deleter.connect();
      try {
        await deleter.query('BEGIN');
        await deleter.query('DELETE FROM endpoints WHERE id = $1', [deleted.id]);
        const event = eventRecord(ws, { fanout: 2 });
        const publishing = store.publish({ event, deliveries: [deliveryRecord(event, kept.id), deliveryRecord(event, deleted.id)] });
        await new Promise((resolve) => setTimeout(resolve, 100)); // the publish is now waiting on the row lock
        await deleter.query('COMMIT');
        const outcome = await publishing;
        assert.ok(outcome.created);
        assert.deepEqual(outcome.endpointsGone, new Set([deleted.id]));
        assert.equal(outcome.event.fanout, 1);
        assert.deepEqual((await store.listDeliveriesForEvent(ws, event.id)).map((d) => d.endpointId), [kept.id]);
      } finally {
        await deleter.end();
      }
    });

    test('concurrent publishes from several nodes with one idempotency key make one event', async () => {
      const nodes = [await open(), await open(), await open()];
      const ws = await newWorkspace(nodes[0]!);
      const outcomes = await Promise.all(
        nodes.flatMap((s) => [1, 2, 3].map(() => s.publish({ event: eventRecord(ws), deliveries: [], idempotencyKey: 'same', requestHash: 'h' }))),
      );
      assert.equal(outcomes.filter((o) => o.created).length, 1);
      assert.equal(new Set(outcomes.map((o) => o.event.id)).size, 1);
    });

    test('a publish on one node wakes the listeners of another', async () => {
      const [publisher, worker] = [await open(), await open()];
      let woken = 0;
      worker.onWork(() => woken++);
      await waitFor(() => woken > 0, { what: 'the first call after LISTEN connects' });
      woken = 0;
      const ws = await newWorkspace(publisher);
      const e = await newEndpoint(publisher, ws);
      const event = eventRecord(ws);
      await publisher.publish({ event, deliveries: [deliveryRecord(event, e.id)] });
      await waitFor(() => woken > 0, { what: 'a notification from the other node' });
    });

    test('a dropped LISTEN connection is re-established, with a wake-up and one log line', async () => {
      const logger = recordingLogger();
      const store = await open({ logger });
      let woken = 0;
      store.onWork(() => woken++);
      await waitFor(() => woken > 0, { what: 'LISTEN to connect' });
      woken = 0;
      const { rowCount } = await admin(db.url, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND application_name = 'socialflow-webhooks-listen' AND query LIKE 'LISTEN%'`);
      assert.ok((rowCount ?? 0) >= 1);
      await waitFor(() => woken > 0, { what: 'the wake-up after reconnecting' });
      assert.deepEqual(logger.lines, ['warn: PostgreSQL LISTEN connection lost; reconnecting.', 'info: PostgreSQL LISTEN connection restored.']);
      woken = 0;
      const ws = await newWorkspace(store);
      const e = await newEndpoint(store, ws, { status: 'disabled', disabledReason: 'paused' });
      await store.updateEndpoint(ws, e.id, { status: 'enabled' }, T0);
      await waitFor(() => woken > 0, { what: 'notifications on the new connection' });
    });

    test('killed pool connections are replaced; statement_timeout applies to each', async () => {
      const logger = recordingLogger();
      const store = await open({ logger, statementTimeoutMs: 1234 });
      await Promise.all(Array.from({ length: 5 }, () => store.countWorkspaces()));
      await admin(db.url, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND application_name = 'socialflow-webhooks' AND pid <> pg_backend_pid()`);
      // Idle clients die with an 'error' event: the process must survive it and the pool recover.
      await waitFor(async () => (await store.countWorkspaces()) >= 0, { what: 'the pool to recover' });
      const pool = (store as unknown as { pool: pg.Pool }).pool;
      assert.deepEqual((await pool.query('SHOW statement_timeout')).rows, [{ statement_timeout: '1234ms' }]);
      await assert.rejects(pool.query('SELECT pg_sleep(2)'), /statement timeout/);
    });

    test('a response body with a NUL byte is recorded instead of failing the batch', async () => {
      const store = await open();
      const ws = await newWorkspace(store);
      const e = await newEndpoint(store, ws);
      const event = eventRecord(ws);
      const d = deliveryRecord(event, e.id);
      await store.publish({ event, deliveries: [d] });
      await store.claimDue('w', FAR_PAST_DUE, 10, 1000, ANY_ROOM);
      const attempt = attemptRecord(d, { responseBody: 'bin\u0000ary', error: 'bad\u0000' });
      await store.completeAttempts('w', [{ attempt, next: { status: 'succeeded' } }], T0, NO_AUTO_DISABLE);
      const [stored] = await store.listAttempts(ws, d.id);
      assert.equal(stored?.responseBody, 'bin\uFFFDary');
      assert.equal(stored?.error, 'bad\uFFFD');
    });

    test('every method rejects, without crashing, while the database is unreachable', async () => {
      await assert.rejects(PostgresStore.open(options('postgres://postgres@127.0.0.1:1/nowhere', { connectTimeoutMs: 2000 })));
      const doomed = await createTestDatabase();
      const logger = recordingLogger();
      const store = await PostgresStore.open(options(doomed!.url, { logger }));
      store.onWork(() => undefined);
      await store.countWorkspaces();
      await doomed!.drop(); // closes every connection and removes the database
      await assert.rejects(store.countWorkspaces());
      await assert.rejects(store.claimDue('w', T0, 10, 1000, ANY_ROOM));
      await assert.rejects(store.completeAttempts('w', [succeeded({ id: 'del_x', workspaceId: 'ws_x', endpointId: 'ep_x' })], T0, NO_AUTO_DISABLE));
      await assert.rejects(store.publish({ event: eventRecord('ws_x'), deliveries: [] }));
      await waitFor(() => logger.lines.some((l) => l.includes('LISTEN connection lost')), { what: 'the listener to notice' });
      await store.close();
    });
  });
}

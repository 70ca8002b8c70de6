/** Connections: the pool every query uses, transactions on it, and migrations at start-up. */
import pg from 'pg';
import type { StoreLogger } from './listener.js';
import { MIGRATION_LOCK_KEY, POSTGRES_MIGRATIONS } from './schema.js';

export type Row = Record<string, unknown>;

export interface ConnectionOptions {
  connectionString: string;
  /** How long to wait for a connection (a new one, or a free one from a busy pool); 0 = forever. */
  connectTimeoutMs: number;
}

/**
 * BIGINT (unix ms, count(*)) as a JavaScript number instead of pg's default string. Set per pool
 * rather than with pg.types.setTypeParser, which would change every pg user in the process.
 */
const getTypeParser = ((oid: number, format?: 'text' | 'binary') =>
  oid === pg.types.builtins.INT8 && format !== 'binary'
    ? (value: string) => Number(value)
    : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser;

/** Settings shared by pooled, LISTEN and migration connections. */
export function clientConfig(options: ConnectionOptions, applicationName: string): pg.ClientConfig {
  return {
    connectionString: options.connectionString,
    connectionTimeoutMillis: options.connectTimeoutMs,
    // TCP keepalive notices a silently dropped connection (NAT, failover) instead of waiting forever.
    keepAlive: true,
    application_name: applicationName,
    types: { getTypeParser },
  };
}

export function createPool(options: ConnectionOptions & { poolSize: number; statementTimeoutMs: number }, log: StoreLogger): pg.Pool {
  const pool = new pg.Pool({
    ...clientConfig(options, 'socialflow-webhooks'),
    max: options.poolSize,
    // Sent in the start-up packet, so it holds for every statement of every pooled connection.
    statement_timeout: options.statementTimeoutMs > 0 ? options.statementTimeoutMs : undefined,
  });
  // Without a listener, an idle client's error (server restart, network cut) is thrown as an
  // uncaught exception and kills the process. The pool drops that client by itself.
  // A server restart fails every idle client at once: log the first, then at most one a minute.
  let lastLogged = 0;
  pool.on('error', (err) => {
    if (Date.now() - lastLogged < 60_000) return;
    lastLogged = Date.now();
    log.warn({ err }, 'An idle PostgreSQL connection failed; the pool will replace it.');
  });
  return pool;
}

/**
 * Run `work` in one transaction on one pooled connection. A connection whose ROLLBACK fails, or
 * that reported an error meanwhile, is destroyed rather than returned to the pool.
 */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // A checked-out client has no error listener of the pool's; an error between two queries would
  // otherwise be an uncaught exception.
  const onError = (err: Error) => (broken = err);
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch((rollbackErr: Error) => (broken ??= rollbackErr));
    throw err;
  } finally {
    client.removeListener('error', onError);
    client.release(broken);
  }
}

/**
 * Bring the schema up to date. Runs on its own connection, with no statement_timeout (a future
 * migration may rebuild an index on a large table), holding a session advisory lock so that nodes
 * starting together apply each step exactly once; the others wait, then find nothing to do.
 */
export async function migrate(options: ConnectionOptions): Promise<void> {
  const client = new pg.Client(clientConfig(options, 'socialflow-webhooks-migrate'));
  client.on('error', () => undefined); // failures surface through the awaited queries
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)');
    const { rows } = await client.query<{ v: number }>('SELECT coalesce(max(version), 0) AS v FROM schema_migrations');
    const done = rows[0]?.v ?? 0;
    for (const [i, sql] of POSTGRES_MIGRATIONS.entries()) {
      const version = i + 1;
      if (version <= done) continue;
      await client.query('BEGIN');
      try {
        await client.query(sql);
        await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [version, Date.now()]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    }
  } finally {
    // Ending the session releases the advisory lock too.
    await client.end().catch(() => undefined);
  }
}

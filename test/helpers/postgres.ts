/**
 * Fresh PostgreSQL databases for tests. Every caller gets its own database, so test files can run
 * in parallel and leave nothing behind. The server is the one at SOCIALFLOW_TEST_PG_URL (default:
 * the local trust-auth server); the database in that URL is only used to create and drop others.
 *
 * Without a reachable server, tests that need one are skipped locally but fail under CI, so a
 * broken CI service can never turn the PostgreSQL suite into a silent pass.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const ADMIN_URL = process.env.SOCIALFLOW_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  /** Connection string of the new, empty database. */
  url: string;
  /** Drops it, closing whatever connections are still open on it. Safe to call twice. */
  drop(): Promise<void>;
}

/** Errors meaning "no server there", as opposed to a server that refused us. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EAI_AGAIN']);

function isUnreachable(err: unknown): boolean {
  const e = err as { code?: string; message?: string; errors?: unknown[] };
  if (e.code && UNREACHABLE.has(e.code)) return true;
  if (/timeout/i.test(e.message ?? '')) return true;
  // Node reports a refused dual-stack connect as an AggregateError of the per-address errors.
  return Array.isArray(e.errors) && e.errors.length > 0 && e.errors.every(isUnreachable);
}

async function withAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A new database, or undefined when no server is reachable and CI is unset. */
export async function createTestDatabase(): Promise<TestDatabase | undefined> {
  const name = `sf_test_${randomBytes(6).toString('hex')}`;
  try {
    await withAdmin((client) => client.query(`CREATE DATABASE ${name}`));
  } catch (err) {
    if (isUnreachable(err) && !process.env.CI) return undefined;
    throw new Error(`Cannot create a test database on ${ADMIN_URL}: ${(err as Error).message}`, { cause: err });
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => withAdmin(async (client) => void (await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))),
  };
}

/** Why PostgreSQL tests are being skipped, printed so a skip is never mistaken for a pass. */
export function skipReason(): string {
  return `no PostgreSQL server reachable at ${ADMIN_URL} (set SOCIALFLOW_TEST_PG_URL, or set CI to make this a failure)`;
}

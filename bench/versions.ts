/** Versions of the stores on this machine, for the record; absent when unreachable. */
import { Redis } from 'ioredis';
import pg from 'pg';

export async function storeVersions(): Promise<{ redis?: string; postgres?: string }> {
  const out: { redis?: string; postgres?: string } = {};
  const r = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 1, retryStrategy: () => null });
  r.on('error', () => {});
  try {
    await r.connect();
    const m = /redis_version:([^\r\n]+)/.exec(await r.info('server'));
    if (m) out.redis = m[1];
  } catch {
    /* not there */
  } finally {
    r.disconnect();
  }
  const c = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres', connectionTimeoutMillis: 1000 });
  try {
    await c.connect();
    out.postgres = (await c.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version.split(' ')[0];
  } catch {
    /* not there */
  } finally {
    await c.end().catch(() => {});
  }
  return out;
}

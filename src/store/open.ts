/** Choosing the backend: PostgreSQL when DATABASE_URL is set, the embedded SQLite file otherwise. */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { SqliteStore } from './sqlite/index.js';
import type { Store } from './types.js';

export async function openStore(config: Config, logger: Logger): Promise<Store> {
  if (config.databaseUrl) {
    // Loaded only when asked for, so a SQLite deployment never touches the pg driver.
    const { PostgresStore } = await import('./postgres/index.js');
    return PostgresStore.open({
      connectionString: config.databaseUrl,
      poolSize: config.pgPoolSize,
      statementTimeoutMs: config.pgStatementTimeoutMs,
      logger,
    });
  }
  return new SqliteStore({ path: join(config.dataDir, 'socialflow.db'), synchronous: config.sqliteSynchronous, cacheMb: config.sqliteCacheMb });
}

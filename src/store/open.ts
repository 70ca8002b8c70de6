/** Choosing the backend: the embedded SQLite file. */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { SqliteStore } from './sqlite/index.js';
import type { Store } from './types.js';

export async function openStore(config: Config, _logger: Logger): Promise<Store> {
  return new SqliteStore({ path: join(config.dataDir, 'socialflow.db'), synchronous: config.sqliteSynchronous });
}

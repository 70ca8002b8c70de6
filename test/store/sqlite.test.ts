/** The Store contract on the embedded SQLite store, in a fresh temporary file. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { storeConformance } from './conformance.js';

const dir = mkdtempSync(join(tmpdir(), 'sf-store-'));

storeConformance(
  'sqlite',
  async () => new SqliteStore({ path: join(dir, 'store.db'), synchronous: 'NORMAL' }),
  async () => rmSync(dir, { recursive: true, force: true }),
);

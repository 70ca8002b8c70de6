/**
 * System 3, this service, started as its own process from the repository root: either
 * `node --import tsx src/main.ts serve` or, with --dist, `node dist/src/main.js serve`. Every run
 * gets a fresh data folder (SQLite) or a fresh database it creates and drops (PostgreSQL).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { request } from 'undici';
import { freePort, onInterrupt, pidsByName, REPO_ROOT, sleep, spawnNode, stopChild, type Spawned } from '../lib/proc.js';
import { drive } from '../lib/drive.js';
import { httpPublisher, postJson } from '../lib/publish.js';
import type { Instance, StartOptions, System } from './types.js';

const PG_ADMIN = 'postgres://postgres@127.0.0.1:5432/postgres';
const pgUrl = (db: string) => `postgres://postgres@127.0.0.1:5432/${db}`;

async function pgQuery<T extends pg.QueryResultRow>(sql: string, url = PG_ADMIN): Promise<T[]> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end();
  }
}

/**
 * The PostgreSQL processes working for one database: its backends, polled from pg_stat_activity
 * (a backend that appears later is added; none is removed, so its CPU keeps counting), plus the
 * server's WAL writer, checkpointer and background writer, which every database shares.
 */
function pgProcessesOf(db: string): { pids: () => number[]; stop: () => Promise<void> } {
  const ours = new Set<number>();
  const client = new pg.Client({ connectionString: PG_ADMIN, connectionTimeoutMillis: 2000 });
  client.on('error', () => {});
  let open = client.connect().then(() => true, () => false);
  const poll = async () => {
    if (!(await open)) return;
    try {
      const rows = (await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [db])).rows;
      for (const r of rows) ours.add(r.pid);
    } catch {
      /* the next poll tries again */
    }
  };
  void poll();
  const timer = setInterval(() => void poll(), 250);
  const helpers = () =>
    pidsByName('postgres').filter((pid) => {
      try {
        return /walwriter|checkpointer|background writer/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
      } catch {
        return false;
      }
    });
  return {
    pids: () => [...ours, ...helpers()],
    stop: async () => {
      clearInterval(timer);
      open = Promise.resolve(false);
      await client.end().catch(() => {});
    },
  };
}

async function waitUntilServing(proc: Spawned, origin: string, key: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void proc.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`the service exited during start-up:\n${proc.tail()}`);
    try {
      const res = await request(`${origin}/v1/webhooks`, { headers: { authorization: `Bearer ${key}` }, headersTimeout: 2000 });
      await res.body.dump();
      return; // any HTTP answer means it listens
    } catch {
      await sleep(100);
    }
  }
  throw new Error(`the service did not answer within ${timeoutMs} ms:\n${proc.tail()}`);
}

export interface ServiceOptions {
  postgres: boolean;
  /** Run the compiled dist/src/main.js instead of the TypeScript sources. */
  dist: boolean;
  /** In compiled mode, the snapshot of dist/src/main.js to start (see snapshotDist). */
  entry?: string;
  /** SOCIALFLOW_SQLITE_SYNCHRONOUS, when set. */
  sqliteSynchronous?: string;
}

export function serviceSystem(o: ServiceOptions): System {
  const entry = o.dist ? (o.entry ?? 'dist/src/main.js') : 'src/main.ts';
  return {
    id: o.postgres ? 'service-pg' : 'service',
    label: o.postgres ? 'service (PostgreSQL)' : 'service (SQLite)',
    publishes: true,
    queues: true,
    async check() {
      if (!existsSync(path.resolve(REPO_ROOT, entry))) return `${entry} does not exist yet`;
      if (o.postgres) {
        try {
          await pgQuery('SELECT 1');
        } catch (err) {
          return `PostgreSQL is not reachable at 127.0.0.1:5432 (${(err as Error).message})`;
        }
      }
      return null;
    },
    async durability() {
      if (!o.postgres) {
        const mode = o.sqliteSynchronous ?? 'NORMAL';
        return mode === 'FULL'
          ? 'SQLite WAL, synchronous=FULL: an accepted event survives a process crash and a power loss'
          : `SQLite WAL, synchronous=${mode}: an accepted event survives a process crash, not a power loss`;
      }
      const rows = await pgQuery<{ name: string; setting: string }>(
        "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes') ORDER BY name",
      );
      const s = Object.fromEntries(rows.map((r) => [r.name, r.setting]));
      const safe = s.fsync === 'on' && s.synchronous_commit !== 'off';
      return (
        `PostgreSQL fsync=${s.fsync} synchronous_commit=${s.synchronous_commit} full_page_writes=${s.full_page_writes}` +
        (safe ? ': an accepted event survives a process crash and a power loss' : ': recent commits can be lost on a crash')
      );
    },
    async start(opts: StartOptions): Promise<Instance> {
      const port = await freePort();
      const key = `sfbench_${randomBytes(16).toString('hex')}`;
      const dataDir = await mkdtemp(path.join(tmpdir(), 'sfbench-'));
      const db = o.postgres ? `sfbench_${randomBytes(5).toString('hex')}` : null;
      if (db) await pgQuery(`CREATE DATABASE ${db}`);
      const cleanup = async () => {
        forget();
        await pgProcs?.stop();
        await rm(dataDir, { recursive: true, force: true });
        if (db) await pgQuery(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      };
      const forget = onInterrupt(cleanup);
      const pgProcs = db ? pgProcessesOf(db) : null;
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        SOCIALFLOW_DATA_DIR: dataDir,
        SOCIALFLOW_BOOTSTRAP_KEY: key,
        SOCIALFLOW_ALLOW_PRIVATE_TARGETS: 'true',
        SOCIALFLOW_RETRY_BASE_MS: String(opts.retryBaseMs),
        SOCIALFLOW_MAX_ATTEMPTS: String(opts.maxAttempts),
        SOCIALFLOW_CONCURRENCY: String(opts.deliveryConcurrency),
        // The other systems have no per-endpoint cap, so by default the service's equals its total.
        SOCIALFLOW_ENDPOINT_CONCURRENCY: String(opts.endpointConcurrency),
        // The publishers would otherwise hit the per-key API rate limit (1,000/s by default).
        SOCIALFLOW_API_RATE_LIMIT: '0',
        LOG_LEVEL: 'warn',
        DATABASE_URL: db ? pgUrl(db) : '',
        ...(o.sqliteSynchronous ? { SOCIALFLOW_SQLITE_SYNCHRONOUS: o.sqliteSynchronous } : {}),
      };
      const proc = spawnNode(entry, {
        args: ['serve'],
        env,
        echo: opts.echo,
        typescript: !o.dist,
        nodeArgs: opts.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir] : [],
      });
      const origin = `http://127.0.0.1:${port}`;
      const auth = { authorization: `Bearer ${key}` };
      try {
        await waitUntilServing(proc, origin, key, 120_000);
      } catch (err) {
        await stopChild(proc, 500);
        await cleanup();
        throw err;
      }
      return {
        pid: proc.pid,
        store: pgProcs ? { name: 'postgres', cpuPids: pgProcs.pids, rssPids: [] } : undefined,
        async register(urls) {
          const secrets: string[] = [];
          for (const url of urls) {
            const ep = await postJson<{ id: string; secret: string }>(origin, '/v1/webhooks', { url, events: ['*'] }, auth);
            if (typeof ep.secret !== 'string') throw new Error(`POST /v1/webhooks answered without a secret: ${JSON.stringify(ep)}`);
            secrets.push(ep.secret);
          }
          return secrets;
        },
        async run(plan) {
          const pub = httpPublisher(origin, '/v1/events', auth, plan.publishConcurrency, plan.tag);
          try {
            return await drive({ count: plan.events, concurrency: plan.publishConcurrency, rate: plan.rate }, pub.task);
          } finally {
            await pub.close();
          }
        },
        // A database created a moment ago has no statistics yet, and until autovacuum's first
        // analyze (within a minute of the first writes) claims are planned as if the queue were
        // empty. Runs here are shorter than that, so they would measure only that first minute.
        settle: db ? async () => void (await pgQuery('ANALYZE', pgUrl(db))) : undefined,
        async stop() {
          await stopChild(proc, 5000);
          await cleanup();
        },
      };
    },
  };
}

/**
 * System 2, BullMQ + Redis: see bench/children/bullmq.ts. Each run gets its own key prefix, which
 * is obliterated (and any leftover key under it deleted) when the run ends.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import { waitForEvent } from '../lib/ipc.js';
import { onInterrupt, spawnNode, stopChild } from '../lib/proc.js';
import { drive } from '../lib/drive.js';
import { httpPublisher, postJson } from '../lib/publish.js';
import { newSecret } from './ceiling.js';
import type { Instance, StartOptions, System } from './types.js';

const REDIS = { host: '127.0.0.1', port: 6379 };

function client(): Redis {
  return new Redis({ ...REDIS, lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 1, retryStrategy: () => null });
}

async function withRedis<T>(fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = client();
  r.on('error', () => {});
  try {
    await r.connect();
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

async function redisPid(): Promise<number | null> {
  return withRedis(async (r) => {
    const m = /process_id:(\d+)/.exec(await r.info('server'));
    const pid = m ? Number(m[1]) : NaN;
    return Number.isFinite(pid) && existsSync(`/proc/${pid}/stat`) ? pid : null;
  });
}

async function wipe(prefix: string, queueName: string): Promise<void> {
  const queue = new Queue(queueName, { connection: { ...REDIS, maxRetriesPerRequest: null }, prefix });
  try {
    await queue.obliterate({ force: true });
  } finally {
    await queue.close();
  }
  await withRedis(async (r) => {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await r.unlink(...keys);
    } while (cursor !== '0');
  });
}

export const bullmq: System = {
  id: 'bullmq',
  label: 'BullMQ + Redis',
  publishes: true,
  queues: true,
  async check() {
    try {
      await withRedis((r) => r.ping());
      return null;
    } catch (err) {
      return `Redis is not reachable at ${REDIS.host}:${REDIS.port} (${(err as Error).message})`;
    }
  },
  async durability() {
    return withRedis(async (r) => {
      const [, aof] = (await r.config('GET', 'appendonly')) as string[];
      const [, save] = (await r.config('GET', 'save')) as string[];
      const [, fsync] = (await r.config('GET', 'appendfsync')) as string[];
      const persisted = aof === 'yes' || (save ?? '') !== '';
      return (
        `Redis appendonly=${aof} save="${save}"` +
        (aof === 'yes' ? ` appendfsync=${fsync}` : '') +
        (persisted ? '' : ': in memory only, a Redis restart loses every queued delivery')
      );
    });
  },
  async start(opts: StartOptions): Promise<Instance> {
    const prefix = `sfbench-${randomBytes(5).toString('hex')}`;
    const queueName = 'deliveries';
    const forget = onInterrupt(() => wipe(prefix, queueName));
    const proc = spawnNode('bench/children/bullmq.ts', {
      ipc: true,
      echo: opts.echo,
      nodeArgs: opts.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir] : [],
      env: {
        ...process.env,
        BENCH_REDIS_HOST: REDIS.host,
        BENCH_REDIS_PORT: String(REDIS.port),
        BENCH_BULLMQ_PREFIX: prefix,
        BENCH_BULLMQ_QUEUE: queueName,
        BENCH_MAX_ATTEMPTS: String(opts.maxAttempts),
        BENCH_RETRY_BASE_MS: String(opts.retryBaseMs),
        BENCH_CONCURRENCY: String(opts.deliveryConcurrency),
      },
    });
    let port: number;
    try {
      ({ port } = await waitForEvent<{ port: number }>(proc.child, 'ready', 120_000));
    } catch (err) {
      await stopChild(proc, 500);
      await wipe(prefix, queueName);
      forget();
      throw new Error(`BullMQ system did not start: ${(err as Error).message}\n${proc.tail()}`);
    }
    const origin = `http://127.0.0.1:${port}`;
    const rpid = await redisPid();
    return {
      pid: proc.pid,
      store: rpid ? { name: 'redis', cpuPids: () => [rpid], rssPids: [rpid] } : undefined,
      async register(urls) {
        const secrets: string[] = [];
        for (const url of urls) {
          const secret = newSecret();
          await postJson(origin, '/endpoints', { url, secret });
          secrets.push(secret);
        }
        return secrets;
      },
      async run(plan) {
        const pub = httpPublisher(origin, '/events', {}, plan.publishConcurrency, plan.tag);
        try {
          return await drive({ count: plan.events, concurrency: plan.publishConcurrency, rate: plan.rate }, pub.task);
        } finally {
          await pub.close();
        }
      },
      async stop() {
        await stopChild(proc, 3000);
        await wipe(prefix, queueName);
        forget();
      },
    };
  },
};

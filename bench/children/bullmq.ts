/**
 * The usual alternative, written the way such a service is commonly built: a small HTTP API
 * (Fastify, like the service) whose publish call stores one BullMQ job per event × endpoint in
 * Redis and answers 202, and a BullMQ Worker in the same process that signs and POSTs each job
 * with undici. Retries are BullMQ's: `attempts` in all, exponential backoff from `backoffMs`.
 * Endpoints live in memory (registered by the harness before the run).
 * Settings come from the environment (see bench/systems/bullmq.ts).
 */
import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import { Queue, Worker, type Job } from 'bullmq';
import { postSigned, secretKey } from '../lib/deliver.js';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const connection = { host: env('BENCH_REDIS_HOST'), port: Number(env('BENCH_REDIS_PORT')), maxRetriesPerRequest: null };
const prefix = env('BENCH_BULLMQ_PREFIX');
const queueName = env('BENCH_BULLMQ_QUEUE');
const attempts = Number(env('BENCH_MAX_ATTEMPTS'));
const backoff = Number(env('BENCH_RETRY_BASE_MS'));
const concurrency = Number(env('BENCH_CONCURRENCY'));

interface DeliveryJob {
  eventId: string;
  endpointId: string;
  payload: string;
}

const endpoints = new Map<string, { url: string; key: Buffer }>();

const queue = new Queue<DeliveryJob>(queueName, {
  connection,
  prefix,
  defaultJobOptions: {
    attempts,
    backoff: { type: 'exponential', delay: backoff },
    // Completed jobs are dropped at once; failed ones are kept (bounded) for inspection/replay.
    removeOnComplete: true,
    removeOnFail: { count: 10_000 },
  },
});

const worker = new Worker<DeliveryJob>(
  queueName,
  async (job: Job<DeliveryJob>) => {
    const ep = endpoints.get(job.data.endpointId);
    if (!ep) throw new Error(`unknown endpoint ${job.data.endpointId}`);
    const status = await postSigned(ep.url, ep.key, job.data.eventId, job.data.payload);
    if (status < 200 || status >= 300) throw new Error(`receiver answered ${status}`);
  },
  { connection, prefix, concurrency },
);
worker.on('error', (err) => console.error('worker error', err.message));
queue.on('error', (err) => console.error('queue error', err.message));

const app = Fastify({ logger: false, bodyLimit: 262_144 });

app.post('/endpoints', async (req, reply) => {
  const { url, secret } = req.body as { url: string; secret: string };
  const id = `ep_${endpoints.size + 1}`;
  endpoints.set(id, { url, key: secretKey(secret) });
  return reply.code(201).send({ id });
});

app.post('/events', async (req, reply) => {
  const input = req.body as Record<string, unknown>;
  if (typeof input !== 'object' || input === null || typeof input.event !== 'string') {
    return reply.code(400).send({ error: 'event required' });
  }
  const event =
    input.timestamp === undefined
      ? { event: input.event, timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), ...input }
      : input;
  const payload = JSON.stringify(event);
  const eventId = `msg_${randomBytes(12).toString('base64url')}`;
  const jobs = [...endpoints.keys()].map((endpointId) => ({ name: input.event as string, data: { eventId, endpointId, payload } }));
  if (jobs.length === 1) await queue.add(jobs[0]!.name, jobs[0]!.data);
  else await queue.addBulk(jobs);
  return reply.code(202).send({ id: eventId, deliveries: jobs.length });
});

await app.listen({ port: 0, host: '127.0.0.1' });
await worker.waitUntilReady();
const address = app.server.address();
process.send?.({ event: 'ready', port: typeof address === 'object' && address ? address.port : 0 });

const shutdown = async () => {
  await Promise.race([Promise.all([app.close(), worker.close(true), queue.close()]), new Promise((r) => setTimeout(r, 2000))]);
  process.exit(0);
};
process.on('SIGTERM', () => void shutdown());
process.on('disconnect', () => void shutdown());

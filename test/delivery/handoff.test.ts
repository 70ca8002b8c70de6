/**
 * The publish-to-worker hand-off, on the store under test (TEST_STORE): a publish on a node with
 * a worker that has room gives its fresh deliveries straight to it, already leased, so they are
 * attempted without a claim; whatever the worker cannot take now goes through the queue, and a
 * publish that writes no deliveries (an idempotent replay) gives its slots back.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import type { AttemptRequest, AttemptResult } from '../../src/domain/attempt.js';
import { DeliveryWorker } from '../../src/delivery/worker.js';
import { retryPolicyOf, type ServiceContext } from '../../src/services/context.js';
import { createEndpoint } from '../../src/services/endpoints.js';
import { publishEvent } from '../../src/services/events.js';
import { createWorkspace } from '../../src/services/keys.js';
import { openStore } from '../../src/store/open.js';
import type { ClaimedDelivery, Store } from '../../src/store/types.js';
import { freshStore } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const logger = pino({ level: 'silent' });
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const SAMPLE = { event: 'post_published', agent_id: 'sf_1', platform: 'X', post_id: 'p1', content_preview: 'hello' };

interface Harness {
  ctx: ServiceContext;
  worker: DeliveryWorker;
  workspaceId: string;
  /** Rows the worker got from claims, as opposed to hand-offs. */
  claimed: ClaimedDelivery[];
  /** Requests sent, in order. */
  sent: AttemptRequest[];
  /** Makes the receiver answer every request waiting so far, and every later one at once. */
  release(): void;
  /** Makes the receiver answer the oldest request it is holding. */
  releaseOne(): void;
  /** Holds every claim between the worker's reading of its room and the store (a slow round trip). */
  holdClaims(): { waiting: () => number; release: () => void };
  newEndpoint(over?: { rateLimit?: number; maxConcurrency?: number }): Promise<string>;
  deliveredCount(endpointId: string): Promise<number>;
}

async function harness(concurrency: number, { holdAnswers = false } = {}): Promise<Harness> {
  const handle = await freshStore();
  const config = loadConfig({ ...handle.env, SOCIALFLOW_ALLOW_PRIVATE_TARGETS: 'true', LOG_LEVEL: 'silent' });
  const store: Store = await openStore(config, logger);
  const claimed: ClaimedDelivery[] = [];
  let claimsDone = 0;
  let claimGate: { promise: Promise<void>; waiting: number; release: () => void } | undefined;
  // The worker's view of the queue, counting what claims hand out.
  const queue = Object.assign(Object.create(store) as Store, {
    claimDue: async (...args: Parameters<Store['claimDue']>) => {
      const gate = claimGate;
      if (gate) {
        gate.waiting++;
        await gate.promise;
      }
      const rows = await store.claimDue(...args);
      claimsDone++;
      claimed.push(...rows);
      return rows;
    },
  });
  const sent: AttemptRequest[] = [];
  let held: (() => void)[] | undefined = holdAnswers ? [] : undefined;
  const send = async (req: AttemptRequest): Promise<AttemptResult> => {
    sent.push(req);
    if (held) await new Promise<void>((resolve) => held!.push(resolve));
    return { ok: true, statusCode: 204, responseHeaders: {}, responseBody: '', responseBodyTruncated: false, durationMs: 1 };
  };
  const policy = retryPolicyOf(config);
  const worker = new DeliveryWorker({
    workerId: 'w-test',
    queue,
    send,
    policy,
    concurrency,
    perEndpointConcurrency: concurrency,
    autoDisable: { failingForMs: 3_600_000, minFailedDeliveries: 1000 },
    leaseMs: 60_000,
    // No polling claims: a hand-off is declined while a claim is on its way to the store, and
    // these tests say which deliveries are handed off. Claims here follow announcements alone.
    pollIntervalMs: 60_000,
    logger,
  });
  let wakes = 0;
  store.onWork(() => {
    wakes++;
    worker.wake();
  });
  // PostgreSQL calls its listeners once its LISTEN connection is up; let that happen before the
  // worker starts, so that no stray claim runs during a test.
  if (store.kind === 'postgres') await waitFor(() => wakes > 0, { what: 'the LISTEN connection' });
  worker.start();
  await waitFor(() => claimsDone > 0, { what: "the worker's first claim" });
  const ctx: ServiceContext = { store, config, policy, send, checkUrl: () => undefined, now: Date.now, handoff: worker };
  cleanups.push(async () => {
    await worker.stop(1000);
    await store.close();
    await handle.cleanup();
  });
  const { workspaceId } = await createWorkspace(store, 'Hand-off', Date.now());
  return {
    ctx,
    worker,
    workspaceId,
    claimed,
    sent,
    release: () => {
      const waiting = held ?? [];
      held = undefined;
      for (const resolve of waiting) resolve();
    },
    releaseOne: () => held?.shift()?.(),
    holdClaims: () => {
      let open!: () => void;
      const gate = { promise: new Promise<void>((resolve) => (open = resolve)), waiting: 0, release: () => {} };
      gate.release = () => {
        claimGate = undefined;
        open();
      };
      claimGate = gate;
      return { waiting: () => gate.waiting, release: gate.release };
    },
    newEndpoint: async (over = {}) =>
      (await createEndpoint(ctx, workspaceId, { url: 'https://receiver.example/hook', events: ['post_published'], ...over })).id,
    deliveredCount: async (endpointId) => {
      const page = await store.listDeliveries(workspaceId, endpointId, { limit: 100, status: 'succeeded' });
      return page.data.length;
    },
  };
}

test('a publish with room on the worker is attempted without a claim, signed and recorded', async () => {
  const h = await harness(4);
  const endpointId = await h.newEndpoint();
  const { event } = await publishEvent(h.ctx, h.workspaceId, { ...SAMPLE, timestamp: '2026-01-01T00:00:00Z' });
  await waitFor(async () => (await h.deliveredCount(endpointId)) === 1, { what: 'the delivery to succeed' });
  assert.equal(h.claimed.length, 0, 'no claim handed it out');
  assert.equal(h.sent.length, 1);
  assert.equal(h.sent[0]!.headers['webhook-id'], event.id);
  assert.equal(h.sent[0]!.body, JSON.stringify({ ...SAMPLE, timestamp: '2026-01-01T00:00:00Z' }));
  const [delivery] = (await h.ctx.store.listDeliveries(h.workspaceId, endpointId, { limit: 10 })).data;
  const attempts = await h.ctx.store.listAttempts(h.workspaceId, delivery!.id);
  assert.deepEqual(attempts.map((a) => [a.number, a.ok, a.responseStatus]), [[1, true, 204]]);
});

test('what the worker has no slot for goes through the queue, and is delivered once a slot frees', async () => {
  const h = await harness(2, { holdAnswers: true });
  const endpointId = await h.newEndpoint();
  for (let i = 0; i < 5; i++) await publishEvent(h.ctx, h.workspaceId, { ...SAMPLE, post_id: `p${i}` });
  await waitFor(() => h.sent.length === 2, { what: 'both slots busy' });
  assert.equal(h.claimed.length, 0, 'the first two were handed off');
  h.release();
  await waitFor(async () => (await h.deliveredCount(endpointId)) === 5, { what: 'all five delivered' });
  assert.equal(h.claimed.length, 3, 'the other three were claimed from the queue');
  assert.deepEqual(postIds(h.sent), ['p0', 'p1', 'p2', 'p3', 'p4']);
});

const postIds = (sent: AttemptRequest[]) => sent.map((r) => (JSON.parse(r.body) as { post_id: string }).post_id);

test('a publish is not handed a slot that queued work for a capped endpoint is waiting for', async () => {
  const h = await harness(4, { holdAnswers: true });
  const endpointId = await h.newEndpoint({ maxConcurrency: 1 });
  for (let i = 0; i < 3; i++) await publishEvent(h.ctx, h.workspaceId, { ...SAMPLE, post_id: `p${i}` });
  await waitFor(() => h.sent.length === 1, { what: 'the first attempt in flight' });
  // p1 and p2 wait in the queue behind the cap. When p0 finishes, its slot is theirs: a publish
  // arriving just then must queue behind them rather than take it.
  h.releaseOne();
  await waitFor(async () => (await h.deliveredCount(endpointId)) === 1, { what: 'the first delivery recorded' });
  await publishEvent(h.ctx, h.workspaceId, { ...SAMPLE, post_id: 'p3' });
  h.release();
  await waitFor(async () => (await h.deliveredCount(endpointId)) === 4, { what: 'all four delivered' });
  assert.deepEqual(postIds(h.sent), ['p0', 'p1', 'p2', 'p3']);
});

test('work queued for an endpoint at its cap, which no hand-off declined, is not overtaken either', async () => {
  const h = await harness(4, { holdAnswers: true });
  const endpointId = await h.newEndpoint({ maxConcurrency: 1 });
  await publishEvent(h.ctx, h.workspaceId, { ...SAMPLE, post_id: 'p0' });
  await waitFor(() => h.sent.length === 1, { what: 'the first attempt in flight' });
  // Queued the way a retry coming due would be: the claim it wakes finds the endpoint at its cap.
  const claimsBefore = h.claimed.length;
  await publishEvent({ ...h.ctx, handoff: undefined }, h.workspaceId, { ...SAMPLE, post_id: 'q1' });
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(h.claimed.length, claimsBefore, 'the claim took nothing: the endpoint was at its cap');
  h.releaseOne();
  await waitFor(async () => (await h.deliveredCount(endpointId)) === 1, { what: 'the first delivery recorded' });
  await publishEvent(h.ctx, h.workspaceId, { ...SAMPLE, post_id: 'p2' });
  h.release();
  await waitFor(async () => (await h.deliveredCount(endpointId)) === 3, { what: 'all three delivered' });
  assert.deepEqual(postIds(h.sent), ['p0', 'q1', 'p2']);
});

test('no hand-off takes a slot while a claim is on its way to the store, so caps hold', async () => {
  const h = await harness(4, { holdAnswers: true });
  const endpointId = await h.newEndpoint({ maxConcurrency: 1 });
  const claims = h.holdClaims();
  // Queued without a hand-off: the worker's claim for it reads the endpoint's room (1), then waits.
  await publishEvent({ ...h.ctx, handoff: undefined }, h.workspaceId, { ...SAMPLE, post_id: 'q0' });
  await waitFor(() => claims.waiting() > 0, { what: 'a claim on its way' });
  await publishEvent(h.ctx, h.workspaceId, { ...SAMPLE, post_id: 'p1' });
  claims.release();
  await waitFor(() => h.sent.length >= 1, { what: 'the claimed attempt' });
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.deepEqual(postIds(h.sent), ['q0'], 'one attempt at a time for an endpoint capped at 1');
  h.release();
  await waitFor(async () => (await h.deliveredCount(endpointId)) === 2, { what: 'both delivered' });
  assert.deepEqual(postIds(h.sent), ['q0', 'p1']);
});

test('a rate-limited endpoint is never handed off; its sibling in the same publish is', async () => {
  const h = await harness(8);
  const limited = await h.newEndpoint({ rateLimit: 1000 });
  const plain = await h.newEndpoint();
  await publishEvent(h.ctx, h.workspaceId, SAMPLE);
  await waitFor(async () => (await h.deliveredCount(limited)) === 1 && (await h.deliveredCount(plain)) === 1, { what: 'both delivered' });
  const claimedFor = (id: string) => h.claimed.filter((c) => c.endpointId === id).length;
  assert.equal(claimedFor(limited), 1, 'the rate-limited delivery was claimed');
  assert.equal(claimedFor(plain), 0, 'its sibling was handed off');
});

test('an idempotent replay gives back the slot it reserved', async () => {
  const h = await harness(1);
  const endpointId = await h.newEndpoint();
  const first = await publishEvent(h.ctx, h.workspaceId, SAMPLE, 'key-1');
  await waitFor(async () => (await h.deliveredCount(endpointId)) === 1, { what: 'the first delivery' });
  const replay = await publishEvent(h.ctx, h.workspaceId, SAMPLE, 'key-1');
  assert.equal(replay.created, false);
  assert.equal(replay.event.id, first.event.id);
  await publishEvent(h.ctx, h.workspaceId, { ...SAMPLE, post_id: 'p2' });
  await waitFor(async () => (await h.deliveredCount(endpointId)) === 2, { what: 'the second event delivered' });
  assert.equal(h.claimed.length, 0, 'the only slot was free again, so the next publish was handed off too');
  assert.equal(h.sent.length, 2, 'the replay sent nothing');
});

test('a hand-off to an endpoint deleted before the publish committed gives its slot back', async () => {
  const h = await harness(1);
  const endpointId = await h.newEndpoint();
  const stale = await h.ctx.store.listEndpoints(h.workspaceId);
  await h.ctx.store.deleteEndpoint(h.workspaceId, endpointId);
  // The publish still sees the endpoint, as one that listed it just before the delete would.
  const racing = { ...h.ctx, store: Object.assign(Object.create(h.ctx.store) as Store, { listEndpoints: async () => stale }) };
  const { event } = await publishEvent(racing, h.workspaceId, SAMPLE);
  assert.equal(event.fanout, 0);
  const next = await h.newEndpoint();
  await publishEvent(h.ctx, h.workspaceId, { ...SAMPLE, post_id: 'p2' });
  await waitFor(async () => (await h.deliveredCount(next)) === 1, { what: 'the next publish delivered' });
  assert.equal(h.claimed.length, 0, 'the only slot was free again, so the next publish was handed off');
  assert.deepEqual(postIds(h.sent), ['p2'], 'nothing was sent to the deleted endpoint');
});

test('a stopped worker takes no hand-offs; its publishes wait in the queue', async () => {
  const h = await harness(4);
  const endpointId = await h.newEndpoint();
  await h.worker.stop(1000);
  await publishEvent(h.ctx, h.workspaceId, SAMPLE);
  const [delivery] = (await h.ctx.store.listDeliveries(h.workspaceId, endpointId, { limit: 10 })).data;
  assert.equal(delivery!.status, 'pending');
  assert.ok(delivery!.nextAttemptAt! <= Date.now(), 'due now, not leased to the stopped worker');
  assert.equal(h.sent.length, 0);
});

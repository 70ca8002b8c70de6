/** The reporting and retention part of the Store contract: test sends, statistics, purging. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AttemptRecord, EndpointRecord, Store } from '../../src/store/types.js';
import type { SuiteContext } from './conformance.js';
import { T0, attemptRecord, deliveryRecord, drainQueue, eventRecord, newEndpoint, newWorkspace } from './fixtures.js';

/** One simulator send: its own event, an ended delivery and its single attempt. */
async function sendAt(store: Store, e: EndpointRecord, startedAt: number, ok: boolean, durationMs = 100): Promise<AttemptRecord> {
  const event = eventRecord(e.workspaceId, { isTest: true, createdAt: startedAt });
  const delivery = deliveryRecord(event, e.id, {
    status: ok ? 'succeeded' : 'failed', attempts: 1, maxAttempts: 1, nextAttemptAt: null, lastStatusCode: ok ? 200 : 500,
  });
  const attempt = attemptRecord(delivery, { startedAt, durationMs, ok, responseStatus: ok ? 200 : 500, failure: ok ? null : 'status' });
  await store.recordTestSend(event, delivery, attempt);
  return attempt;
}

export function statsConformance({ store }: SuiteContext): void {
  test('recordTestSend stores event, delivery and attempt at once, and queues nothing', async () => {
    const s = store();
    await drainQueue(s);
    const ws = await newWorkspace(s);
    const e = await newEndpoint(s, ws, { status: 'disabled', disabledReason: 'paused' });
    const event = eventRecord(ws, { isTest: true, type: 'agent_trained' });
    const delivery = deliveryRecord(event, e.id, { status: 'failed', attempts: 1, maxAttempts: 1, nextAttemptAt: null, lastStatusCode: 404, lastError: 'HTTP 404' });
    const attempt = attemptRecord(delivery, { ok: false, failure: 'status', responseStatus: 404, error: 'HTTP 404' });
    await s.recordTestSend(event, delivery, attempt);
    assert.deepEqual(await s.getEvent(ws, event.id), event);
    assert.deepEqual(await s.getDelivery(ws, delivery.id), delivery);
    assert.deepEqual(await s.listAttempts(ws, delivery.id), [attempt]);
    assert.equal(await s.nextDueAt(0), undefined);
  });

  test('deliveryStats buckets attempts since a time, for one endpoint', async () => {
    const s = store();
    const ws = await newWorkspace(s);
    const e = await newEndpoint(s, ws);
    const otherEndpoint = await newEndpoint(s, ws);
    const H = 3_600_000;
    const start = Math.floor(Date.now() / H) * H - H; // the previous hour: both buckets lie in the past
    const since = start + 500;
    await sendAt(s, e, start + 100, true, 999); // in the first bucket, but before `since`
    await sendAt(s, e, start + 1000, true, 100);
    await sendAt(s, e, start + 2000, true, 200);
    await sendAt(s, e, start + 3000, false, 300);
    await sendAt(s, e, start + H + 10, true, 50);
    await sendAt(s, otherEndpoint, start + 1000, false, 10);
    const stats = await s.deliveryStats(ws, e.id, since, H);
    // Two buckets up to now; a third only if an hour starts while this test runs.
    assert.ok(stats.length === 2 || stats.length === 3, `got ${stats.length} buckets`);
    assert.deepEqual(stats.slice(0, 2), [
      { start, succeeded: 2, failed: 1, avgLatencyMs: 200, p95LatencyMs: 300 },
      { start: start + H, succeeded: 1, failed: 0, avgLatencyMs: 50, p95LatencyMs: 50 },
    ]);
    const empty = await s.deliveryStats(ws, otherEndpoint.id, start + H, H);
    assert.deepEqual(empty[0], { start: start + H, succeeded: 0, failed: 0, avgLatencyMs: null, p95LatencyMs: null });
  });

  test('endpointSummaries counts attempts since a time, per endpoint of the workspace', async () => {
    const s = store();
    const ws = await newWorkspace(s);
    const other = await newWorkspace(s);
    const [e1, e2, e3, e4] = [
      await newEndpoint(s, ws, { createdAt: T0 + 1 }),
      await newEndpoint(s, ws, { createdAt: T0 + 2 }),
      await newEndpoint(s, ws, { createdAt: T0 + 3 }),
      await newEndpoint(s, ws, { createdAt: T0 + 4 }),
    ];
    await sendAt(s, e1, T0 - 5, false);
    await sendAt(s, e1, T0 + 1, true);
    await sendAt(s, e1, T0 + 2, false);
    await sendAt(s, e1, T0 + 3, true);
    await sendAt(s, e2, T0 + 1, true);
    await sendAt(s, e2, T0 + 5, false);
    await sendAt(s, e4, T0 - 100, true);
    await sendAt(s, await newEndpoint(s, other), T0 + 1, true);
    assert.deepEqual(await s.endpointSummaries(ws, T0), [
      { endpointId: e1.id, attempts: 3, succeeded: 2, lastAttemptAt: T0 + 3, lastAttemptOk: true },
      { endpointId: e2.id, attempts: 2, succeeded: 1, lastAttemptAt: T0 + 5, lastAttemptOk: false },
      { endpointId: e3.id, attempts: 0, succeeded: 0, lastAttemptAt: null, lastAttemptOk: null },
      { endpointId: e4.id, attempts: 0, succeeded: 0, lastAttemptAt: null, lastAttemptOk: null },
    ]);
  });

  test('purgeBefore deletes ended deliveries before the cutoff in batches, then orphaned events', async () => {
    const s = store();
    // Older than anything other tests write, so this purge touches only what is made here.
    const P = 1_000_000_000;
    const cutoff = P + 1000;
    const ws = await newWorkspace(s);
    // Disabled, so its pending delivery stays out of every other test's queue.
    const e = await newEndpoint(s, ws, { status: 'disabled', disabledReason: 'paused' });
    const ended = (updatedAt: number, status: 'succeeded' | 'failed' = 'succeeded') => ({ status, nextAttemptAt: null, updatedAt });

    const evA = eventRecord(ws, { createdAt: P, fanout: 2 });
    const a1 = deliveryRecord(evA, e.id, ended(P + 10));
    const a2 = deliveryRecord(evA, e.id, ended(P + 20, 'failed'));
    await s.publish({ event: evA, deliveries: [a1, a2] });
    const evB = eventRecord(ws, { createdAt: P, isTest: true });
    const b1 = deliveryRecord(evB, e.id, { ...ended(P + 30), attempts: 1 });
    await s.recordTestSend(evB, b1, attemptRecord(b1, { startedAt: P + 30 }));
    const evC = eventRecord(ws, { createdAt: P, fanout: 2 });
    const c1 = deliveryRecord(evC, e.id, { nextAttemptAt: P + 5, updatedAt: P + 5 }); // pending: never purged
    const c2 = deliveryRecord(evC, e.id, ended(P + 40));
    await s.publish({ event: evC, deliveries: [c1, c2] });
    const evD = eventRecord(ws, { createdAt: P, fanout: 0 });
    await s.publish({ event: evD, deliveries: [] });
    const evE = eventRecord(ws, { createdAt: cutoff + 5000, fanout: 0 });
    await s.publish({ event: evE, deliveries: [] });
    const evF = eventRecord(ws, { createdAt: P });
    const f1 = deliveryRecord(evF, e.id, ended(cutoff + 1000)); // ended, but after the cutoff
    await s.publish({ event: evF, deliveries: [f1] });

    assert.equal(await s.purgeBefore(cutoff, 2), 2);
    assert.equal(await s.purgeBefore(cutoff, 2), 2);
    assert.equal(await s.purgeBefore(cutoff, 2), 0);
    for (const gone of [a1, a2, b1, c2]) assert.equal(await s.getDelivery(ws, gone.id), undefined);
    assert.deepEqual(await s.listAttempts(ws, b1.id), []);
    assert.deepEqual(await s.getDelivery(ws, c1.id), c1);
    assert.deepEqual(await s.getDelivery(ws, f1.id), f1);
    for (const gone of [evA, evB, evD]) assert.equal(await s.getEvent(ws, gone.id), undefined);
    for (const kept of [evC, evE, evF]) assert.deepEqual(await s.getEvent(ws, kept.id), kept);
  });
}

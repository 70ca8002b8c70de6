/** The delivery queue part of the Store contract: leases, outcomes, requeues and wake-ups. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClaimedDelivery, DeliveryRecord, EndpointRecord, EventRecord } from '../../src/store/types.js';
import { waitFor } from '../helpers/wait.js';
import type { SuiteContext } from './conformance.js';
import {
  ANY_ROOM, NO_AUTO_DISABLE, T0, attemptRecord, deliveryRecord, drainQueue, eventRecord, failedAttempt, newEndpoint, newWorkspace, publishTo, sleep, succeeded,
} from './fixtures.js';

function claimedOf(d: DeliveryRecord, e: EndpointRecord, ev: EventRecord): ClaimedDelivery {
  return {
    deliveryId: d.id,
    workspaceId: d.workspaceId,
    eventId: ev.id,
    payload: ev.payload,
    endpointId: e.id,
    url: e.url,
    secret: e.secret,
    previousSecret: e.previousSecret,
    previousSecretExpiresAt: e.previousSecretExpiresAt,
    attemptNumber: d.attempts + 1,
    maxAttempts: d.maxAttempts,
    maxConcurrency: e.maxConcurrency,
    rateLimit: e.rateLimit,
  };
}

const ids = (claimed: ClaimedDelivery[]) => claimed.map((c) => c.deliveryId);

export function queueConformance({ store }: SuiteContext): void {
  test('claimDue leases due deliveries of enabled endpoints to one worker at a time', async () => {
    const s = store();
    await drainQueue(s);
    assert.equal(await s.nextDueAt(T0), undefined);
    const ws = await newWorkspace(s);
    const on = await newEndpoint(s, ws, { url: 'https://a.example/in', previousSecret: 'whsec_old', previousSecretExpiresAt: T0 + 5000 });
    const off = await newEndpoint(s, ws, { status: 'disabled', disabledReason: 'paused' });
    const event = eventRecord(ws, { payload: '{"n":1}', fanout: 4 });
    const d1 = deliveryRecord(event, on.id, { nextAttemptAt: T0 });
    const d2 = deliveryRecord(event, on.id, { nextAttemptAt: T0 + 5, attempts: 2, maxAttempts: 5 });
    const later = deliveryRecord(event, on.id, { nextAttemptAt: T0 + 1000 });
    const parked = deliveryRecord(event, off.id, { nextAttemptAt: T0 });
    await s.publish({ event, deliveries: [d1, d2, later, parked] });

    assert.deepEqual(await s.claimDue('w1', T0 + 10, 10, 1000, ANY_ROOM), [claimedOf(d1, on, event), claimedOf(d2, on, event)]);
    assert.deepEqual(await s.claimDue('w2', T0 + 10, 10, 1000, ANY_ROOM), [], 'leased deliveries are not claimed again');
    assert.equal(await s.nextDueAt(T0 + 10), T0 + 1000, 'the next one to come due');
    assert.deepEqual(ids(await s.claimDue('w2', T0 + 1000, 10, 1000, ANY_ROOM)), [later.id]);
    assert.equal(await s.nextDueAt(T0 + 1000), T0 + 1010, 'a lease is due again when it runs out');
    assert.deepEqual(await s.claimDue('w2', T0 + 1009, 10, 1000, ANY_ROOM), []);
    // Both leases ran out at the same moment, so either may come first.
    assert.deepEqual(ids(await s.claimDue('w2', T0 + 1010, 10, 1000, ANY_ROOM)).sort(), [d1.id, d2.id].sort(), 'an expired lease is claimable again');
    assert.deepEqual(await s.getDelivery(ws, d1.id), { ...d1, nextAttemptAt: T0 + 2010 }, 'a claim moves next_attempt_at to the end of its lease, and nothing else');
    assert.deepEqual(await s.claimDue('w3', T0 + 1500, 10, 1000, ANY_ROOM), [], 'the disabled endpoint keeps its delivery');
  });

  test('claimDue honours the limit; an endpoint enabled again releases its deliveries', async () => {
    const s = store();
    await drainQueue(s);
    const ws = await newWorkspace(s);
    const e = await newEndpoint(s, ws);
    const off = await newEndpoint(s, ws, { status: 'disabled', disabledReason: 'paused' });
    const made = [];
    for (let i = 0; i < 3; i++) made.push((await publishTo(s, ws, [e.id], { delivery: { nextAttemptAt: T0 + i } })).deliveries[0]!);
    const { deliveries: [parked] } = await publishTo(s, ws, [off.id], { delivery: { nextAttemptAt: T0 } });
    assert.deepEqual(ids(await s.claimDue('w', T0 + 10, 2, 1000, ANY_ROOM)), [made[0]!.id, made[1]!.id]);
    assert.deepEqual(ids(await s.claimDue('w', T0 + 10, 2, 1000, ANY_ROOM)), [made[2]!.id]);
    assert.deepEqual(await s.claimDue('w', T0 + 10, 2, 1000, ANY_ROOM), []);
    await publishTo(s, ws, [off.id], { delivery: { nextAttemptAt: T0 + 50 } });
    assert.equal(await s.nextDueAt(T0 + 10), T0 + 1010, 'the end of the leases; a disabled endpoint is not waited for');
    await s.updateEndpoint(ws, off.id, { status: 'enabled', disabledReason: null }, T0 + 20);
    assert.equal(await s.nextDueAt(T0 + 10), T0 + 50);
    assert.deepEqual(ids(await s.claimDue('w', T0 + 20, 10, 1000, ANY_ROOM)), [parked!.id]);
  });

  test('completeAttempts records attempts, moves deliveries on and disables on request', async () => {
    const s = store();
    await drainQueue(s);
    const ws = await newWorkspace(s);
    const e = await newEndpoint(s, ws);
    const gone = await newEndpoint(s, ws);
    const { deliveries } = await publishTo(s, ws, [e.id, e.id, e.id, gone.id]);
    const [a, b, c, x] = deliveries as [DeliveryRecord, DeliveryRecord, DeliveryRecord, DeliveryRecord];
    assert.equal((await s.claimDue('w1', T0, 10, 60_000, ANY_ROOM)).length, 4);
    const now = T0 + 100;
    const okAttempt = attemptRecord(a, { startedAt: T0 + 1, durationMs: 80 });
    const busy = failedAttempt(b, { responseStatus: 503, error: 'HTTP 503', responseBodyTruncated: true });
    const timeout = failedAttempt(c, { failure: 'timeout', responseStatus: null, responseHeaders: null, responseBody: null, error: 'timed out after 15000 ms' });
    const gone410 = failedAttempt(x, { responseStatus: 410, error: 'HTTP 410' });
    await s.completeAttempts('w1', [
      { attempt: okAttempt, next: { status: 'succeeded' } },
      { attempt: busy, next: { status: 'pending', nextAttemptAt: T0 + 500 } },
      { attempt: timeout, next: { status: 'failed' } },
      { attempt: gone410, next: { status: 'failed', disableEndpoint: 'The receiver answered 410 Gone.' } },
    ], now, NO_AUTO_DISABLE);

    const ended = { attempts: 1, nextAttemptAt: null, updatedAt: now };
    assert.deepEqual(await s.getDelivery(ws, a.id), { ...a, ...ended, status: 'succeeded', lastStatusCode: 200, lastError: null });
    assert.deepEqual(await s.getDelivery(ws, b.id), { ...b, ...ended, status: 'pending', nextAttemptAt: T0 + 500, lastStatusCode: 503, lastError: 'HTTP 503' });
    assert.deepEqual(await s.getDelivery(ws, c.id), { ...c, ...ended, status: 'failed', lastStatusCode: null, lastError: 'timed out after 15000 ms' });
    assert.deepEqual(await s.getDelivery(ws, x.id), { ...x, ...ended, status: 'failed', lastStatusCode: 410, lastError: 'HTTP 410' });
    assert.deepEqual(await s.getEndpoint(ws, gone.id), {
      ...gone,
      status: 'disabled',
      disabledReason: 'The receiver answered 410 Gone.',
      consecutiveFailures: 1,
      failingSince: gone410.startedAt,
      updatedAt: now,
    });
    // After the success, one failed attempt started a streak and one delivery ended failed.
    assert.deepEqual(await s.getEndpoint(ws, e.id), { ...e, consecutiveFailures: 1, failingSince: busy.startedAt });
    assert.deepEqual(await s.listAttempts(ws, a.id), [okAttempt]);
    assert.deepEqual(await s.listAttempts(ws, b.id), [busy]);
    assert.deepEqual(await s.listAttempts(ws, c.id), [timeout]);

    // The outcome released w1's lease, so the retry is due at its own time, not the lease's.
    assert.deepEqual(await s.claimDue('w2', T0 + 499, 10, 1000, ANY_ROOM), []);
    const [retry] = await s.claimDue('w2', T0 + 500, 10, 1000, ANY_ROOM);
    assert.equal(retry?.deliveryId, b.id);
    assert.equal(retry?.attemptNumber, 2);
  });

  test('a worker that lost its lease records its attempt but does not decide', async () => {
    const s = store();
    await drainQueue(s);
    const ws = await newWorkspace(s);
    const e = await newEndpoint(s, ws);
    const { deliveries: [f] } = await publishTo(s, ws, [e.id]);
    assert.deepEqual(ids(await s.claimDue('w1', T0, 10, 100, ANY_ROOM)), [f!.id]);
    assert.deepEqual(ids(await s.claimDue('w2', T0 + 200, 10, 1000, ANY_ROOM)), [f!.id], 'w1 took too long');
    const late = attemptRecord(f!, { startedAt: T0 + 1 });
    await s.completeAttempts('w1', [{ attempt: late, next: { status: 'succeeded' } }], T0 + 300, NO_AUTO_DISABLE);
    assert.deepEqual(await s.getDelivery(ws, f!.id), { ...f!, nextAttemptAt: T0 + 1200 }, 'the late outcome changes nothing');
    assert.deepEqual(await s.claimDue('w3', T0 + 300, 10, 1000, ANY_ROOM), [], 'and w2 keeps its lease');

    const current = failedAttempt(f!, { startedAt: T0 + 250 });
    await s.completeAttempts('w2', [{ attempt: current, next: { status: 'failed' } }], T0 + 400, NO_AUTO_DISABLE);
    assert.deepEqual(await s.getDelivery(ws, f!.id), {
      ...f!, status: 'failed', attempts: 1, nextAttemptAt: null, lastStatusCode: 500, lastError: 'HTTP 500', updatedAt: T0 + 400,
    });
    assert.deepEqual(await s.listAttempts(ws, f!.id), [late, current]);
  });

  test('completeAttempts skips a delivery deleted meanwhile and records the rest', async () => {
    const s = store();
    await drainQueue(s);
    const ws = await newWorkspace(s);
    const doomed = await newEndpoint(s, ws);
    const e = await newEndpoint(s, ws);
    const { deliveries: [g, h] } = await publishTo(s, ws, [doomed.id, e.id]);
    assert.equal((await s.claimDue('w', T0, 10, 1000, ANY_ROOM)).length, 2);
    assert.equal(await s.deleteEndpoint(ws, doomed.id), true);
    const done = attemptRecord(h!);
    await s.completeAttempts('w', [succeeded(g!), { attempt: done, next: { status: 'succeeded' } }], T0 + 10, NO_AUTO_DISABLE);
    assert.equal(await s.getDelivery(ws, g!.id), undefined);
    assert.equal((await s.getDelivery(ws, h!.id))?.status, 'succeeded');
    assert.deepEqual(await s.listAttempts(ws, h!.id), [done]);
  });

  test('listAttempts returns attempts in order, every field intact', async () => {
    const s = store();
    await drainQueue(s);
    const ws = await newWorkspace(s);
    const e = await newEndpoint(s, ws);
    const { deliveries: [d] } = await publishTo(s, ws, [e.id]);
    await s.claimDue('w', T0, 10, 1000, ANY_ROOM);
    const second = failedAttempt(d!, { number: 2, startedAt: T0 + 50, requestHeaders: { 'webhook-signature': 'v1,abc def', 'x-ü': '"quoted"' } });
    const first = failedAttempt(d!, { number: 1, startedAt: T0 + 10, durationMs: 15_000, failure: 'connection', responseStatus: null, responseHeaders: null, responseBody: null, error: 'ECONNREFUSED' });
    await s.completeAttempts('w', [{ attempt: second, next: { status: 'failed' } }, { attempt: first, next: { status: 'failed' } }], T0 + 60, NO_AUTO_DISABLE);
    assert.deepEqual(await s.listAttempts(ws, d!.id), [first, second]);
    assert.equal((await s.getDelivery(ws, d!.id))?.attempts, 2);
  });

  test('requeueDelivery gives one more attempt, due now; an attempt in flight keeps its lease', async () => {
    const s = store();
    await drainQueue(s);
    const ws = await newWorkspace(s);
    const e = await newEndpoint(s, ws);
    const { event, deliveries: [r] } = await publishTo(s, ws, [e.id], {
      delivery: { status: 'failed', attempts: 3, maxAttempts: 3, nextAttemptAt: null, lastStatusCode: 500, lastError: 'HTTP 500' },
    });
    const requeued = await s.requeueDelivery(ws, r!.id, T0 + 50);
    assert.deepEqual(requeued, { ...r!, status: 'pending', maxAttempts: 4, nextAttemptAt: T0 + 50, updatedAt: T0 + 50 });
    assert.deepEqual(await s.getDelivery(ws, r!.id), requeued);
    assert.deepEqual(await s.claimDue('w', T0 + 50, 10, 1000, ANY_ROOM), [claimedOf({ ...r!, maxAttempts: 4 }, e, event)]);
    await s.completeAttempts('w', [succeeded(r!, { number: 4 })], T0 + 60, NO_AUTO_DISABLE);
    assert.equal(await s.requeueDelivery(ws, 'del_unknown', T0), undefined);

    const { deliveries: [q] } = await publishTo(s, ws, [e.id], { delivery: { nextAttemptAt: T0 + 2000 } });
    assert.deepEqual(ids(await s.claimDue('w1', T0 + 2000, 10, 1000, ANY_ROOM)), [q!.id]);
    const during = await s.requeueDelivery(ws, q!.id, T0 + 2010);
    assert.deepEqual(during, { ...q!, nextAttemptAt: T0 + 2010, updatedAt: T0 + 2010 }, 'budget already allows one more');
    assert.deepEqual(await s.claimDue('w2', T0 + 2010, 10, 1000, ANY_ROOM), [], 'still leased to w1');
    await s.completeAttempts('w1', [{ attempt: failedAttempt(q!), next: { status: 'pending', nextAttemptAt: T0 + 2900 } }], T0 + 2020, NO_AUTO_DISABLE);
    const after = await s.getDelivery(ws, q!.id);
    assert.deepEqual([after?.status, after?.attempts, after?.nextAttemptAt], ['pending', 1, T0 + 2900], 'w1 still decided');
  });

  test('listEndpoints shows every change to an endpoint at once, health and auto-disable included', async () => {
    const s = store();
    await drainQueue(s);
    const ws = await newWorkspace(s);
    const list = () => s.listEndpoints(ws);
    const a = await newEndpoint(s, ws, { createdAt: T0 + 1 });
    assert.deepEqual(await list(), [a]);
    const b = await newEndpoint(s, ws, { createdAt: T0 + 2 });
    assert.deepEqual(await list(), [a, b]);
    const patched = await s.updateEndpoint(ws, a.id, { description: 'changed' }, T0 + 1);
    assert.deepEqual(await list(), [patched, b]);

    const { deliveries: [d] } = await publishTo(s, ws, [b.id]);
    assert.equal((await s.claimDue('w', T0 + 10, 10, 1000, ANY_ROOM)).length, 1);
    const gone410 = failedAttempt(d!, { startedAt: T0 + 11, responseStatus: 410, error: 'HTTP 410' });
    await s.completeAttempts('w', [{ attempt: gone410, next: { status: 'failed', disableEndpoint: 'The receiver answered 410 Gone.' } }], T0 + 20, NO_AUTO_DISABLE);
    const disabled = await s.getEndpoint(ws, b.id);
    assert.deepEqual([disabled?.status, disabled?.consecutiveFailures], ['disabled', 1]);
    assert.deepEqual(await list(), [patched, disabled]);

    const enabled = await s.updateEndpoint(ws, b.id, { status: 'enabled', disabledReason: null }, T0 + 30);
    assert.deepEqual(await list(), [patched, enabled]);
    const { deliveries: [d2] } = await publishTo(s, ws, [b.id], { delivery: { nextAttemptAt: T0 + 40 } });
    assert.equal((await s.claimDue('w', T0 + 40, 10, 1000, ANY_ROOM)).length, 1);
    await s.completeAttempts('w', [succeeded(d2!)], T0 + 50, NO_AUTO_DISABLE);
    const healthy = await s.getEndpoint(ws, b.id);
    assert.deepEqual([healthy?.consecutiveFailures, healthy?.failingSince], [0, null]);
    assert.deepEqual(await list(), [patched, healthy]);

    await s.deleteEndpoint(ws, a.id);
    assert.deepEqual(await list(), [healthy]);
  });

  test('onWork is called after a publish with deliveries, a requeue, and an endpoint enabled', async () => {
    const s = store();
    let calls = 0;
    s.onWork(() => calls++);
    await sleep(300); // a shared backend may call once as its listener connects: work could have been missed
    const ws = await newWorkspace(s);
    const e = await newEndpoint(s, ws, { status: 'disabled', disabledReason: 'paused' });
    const exactlyOne = async (what: string, act: () => Promise<unknown>) => {
      calls = 0;
      await act();
      await waitFor(() => calls > 0, { timeoutMs: 5000, what });
      await sleep(150);
      assert.equal(calls, 1, what);
    };
    await exactlyOne('a publish with deliveries', async () => {
      await s.publish({ event: eventRecord(ws, { fanout: 0 }), deliveries: [] });
      await s.updateEndpoint(ws, e.id, { description: 'quiet' }, T0);
      await s.requeueDelivery(ws, 'del_unknown', T0);
      await publishTo(s, ws, [e.id]);
    });
    await exactlyOne('an endpoint enabled', async () => {
      await s.updateEndpoint(ws, 'ep_unknown', { status: 'enabled' }, T0);
      await s.updateEndpoint(ws, e.id, { status: 'enabled', disabledReason: null }, T0);
    });
    let failed: DeliveryRecord | undefined;
    await exactlyOne('another publish', async () => {
      failed = (await publishTo(s, ws, [e.id], { delivery: { status: 'failed', nextAttemptAt: null } })).deliveries[0];
    });
    await exactlyOne('a requeue', () => s.requeueDelivery(ws, failed!.id, T0));
  });

  test('a delivery published already leased (a hand-off) is its owner\'s until the lease runs out, and wakes nobody', async () => {
    const s = store();
    await drainQueue(s);
    let calls = 0;
    s.onWork(() => calls++);
    await sleep(300); // a shared backend may call once as its listener connects
    const ws = await newWorkspace(s);
    const e = await newEndpoint(s, ws);
    const until = T0 + 1000;
    calls = 0;
    const { deliveries: [handed] } = await publishTo(s, ws, [e.id], {
      delivery: { nextAttemptAt: until, lease: { owner: 'w1', until } },
    });
    await sleep(300);
    assert.equal(calls, 0, 'a publish whose deliveries are all leased announces no work');
    assert.deepEqual(await s.claimDue('w2', T0 + 10, 10, 1000, ANY_ROOM), [], 'no other worker claims it while leased');
    const { lease: _lease, ...stored } = handed!;
    assert.deepEqual(await s.getDelivery(ws, handed!.id), stored, 'stored as given; the lease is the queue\'s, not part of the record');

    // The owner records the outcome like any claimed attempt (the lease fences it).
    await s.completeAttempts('w1', [succeeded(handed!)], T0 + 20, NO_AUTO_DISABLE);
    assert.equal((await s.getDelivery(ws, handed!.id))!.status, 'succeeded');

    // An owner that died: its hand-off is claimed again once the lease is over.
    const { deliveries: [orphan] } = await publishTo(s, ws, [e.id], {
      delivery: { nextAttemptAt: until, lease: { owner: 'w-dead', until } },
    });
    assert.deepEqual(await s.claimDue('w2', until - 1, 10, 1000, ANY_ROOM), []);
    assert.deepEqual(ids(await s.claimDue('w2', until, 10, 1000, ANY_ROOM)), [orphan!.id]);
    await s.completeAttempts('w-dead', [succeeded(orphan!)], until + 5, NO_AUTO_DISABLE);
    assert.equal((await s.getDelivery(ws, orphan!.id))!.status, 'pending', 'the dead owner no longer decides');
  });

  test('an endpoint failing long and often enough is disabled with a reason; a success resets the streak', async () => {
    const s = store();
    await drainQueue(s);
    const ws = await newWorkspace(s);
    const e = await newEndpoint(s, ws);
    const policy = { failingForMs: 1000, minFailedDeliveries: 3 };
    const failOnce = async (at: number, ok = false) => {
      const { deliveries } = await publishTo(s, ws, [e.id]);
      const [d] = await s.claimDue('w', at, 10, 60_000, ANY_ROOM);
      assert.equal(d?.deliveryId, deliveries[0]!.id);
      const attempt = ok ? attemptRecord(deliveries[0]!, { startedAt: at }) : failedAttempt(deliveries[0]!, { startedAt: at });
      await s.completeAttempts('w', [{ attempt, next: { status: ok ? 'succeeded' : 'failed' } }], at, policy);
      return (await s.getEndpoint(ws, e.id))!;
    };
    assert.deepEqual(await failOnce(T0 + 10), { ...e, consecutiveFailures: 1, failingSince: T0 + 10 });
    await failOnce(T0 + 20);
    assert.deepEqual(await failOnce(T0 + 30, true), e, 'a success ends the streak');
    await failOnce(T0 + 100);
    await failOnce(T0 + 200);
    const third = await failOnce(T0 + 300);
    assert.equal(third.status, 'enabled', 'three in a row, but failing for less than the policy\'s second');
    const fourth = await failOnce(T0 + 1100);
    assert.equal(fourth.status, 'disabled');
    assert.equal(fourth.consecutiveFailures, 4);
    assert.match(fourth.disabledReason!, /Every attempt failed for more than 1 seconds and at least 3 deliveries in a row/);
  });

  test('claimDue gives each endpoint at most its room, so a backlog on one cannot crowd out another', async () => {
    const s = store();
    await drainQueue(s);
    const ws = await newWorkspace(s);
    const big = await newEndpoint(s, ws);
    const capped = await newEndpoint(s, ws, { maxConcurrency: 2, rateLimit: 5 });
    const small = await newEndpoint(s, ws);
    // The big endpoint's backlog is older than everything else.
    const backlog = await publishTo(s, ws, Array.from({ length: 40 }, () => big.id), { delivery: { nextAttemptAt: T0 } });
    await publishTo(s, ws, [capped.id, capped.id, capped.id, small.id], { delivery: { nextAttemptAt: T0 + 1 } });

    const first = await s.claimDue('w', T0 + 10, 20, 60_000, { defaultPerEndpoint: 3, room: {} });
    const count = (claimed: ClaimedDelivery[], id: string) => claimed.filter((c) => c.endpointId === id).length;
    assert.equal(count(first, big.id), 3, 'the default room');
    assert.equal(count(first, capped.id), 2, "the endpoint's own max_concurrency");
    assert.equal(count(first, small.id), 1);
    assert.deepEqual(first.find((c) => c.endpointId === capped.id)!.rateLimit, 5);
    // The worker says the big one is full: the next claim skips it entirely.
    const second = await s.claimDue('w', T0 + 10, 20, 60_000, { defaultPerEndpoint: 3, room: { [big.id]: 0, [capped.id]: 1 } });
    assert.deepEqual(second.map((c) => c.endpointId), [capped.id]);
    assert.ok(backlog.deliveries.length === 40);
  });
}

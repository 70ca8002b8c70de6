/**
 * The Store contract, run against every backend: the same calls must give the same, exact results
 * on SQLite and PostgreSQL. `open` is called once before the suite and the store is closed after
 * it, then `cleanup` runs; the tests share that store, so each makes its own workspace and the
 * queue tests settle leftovers first (the queue is global by design).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newId } from '../../src/domain/ids.js';
import type { ApiKeyRecord, DeliveryRecord, Store } from '../../src/store/types.js';
import { queueConformance } from './conformance-queue.js';
import { statsConformance } from './conformance-stats.js';
import { T0, attemptRecord, deliveryRecord, eventRecord, newEndpoint, newWorkspace, publishTo, sortById } from './fixtures.js';

export interface SuiteContext {
  store: () => Store;
}

export function storeConformance(name: string, open: () => Promise<Store>, cleanup: () => Promise<void>): void {
  describe(`Store conformance: ${name}`, () => {
    let store: Store | undefined;
    before(async () => {
      store = await open();
    });
    after(async () => {
      await store?.close();
      await cleanup();
    });
    const ctx: SuiteContext = { store: () => store! };
    dataConformance(ctx);
    queueConformance(ctx);
    statsConformance(ctx);
  });
}

function apiKey(workspaceId: string, over: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  const id = newId('apiKey');
  return { id, workspaceId, prefix: 'sfk_abc', hash: `hash-${id}`, createdAt: T0, revokedAt: null, ...over };
}

function dataConformance({ store }: SuiteContext): void {
  test('workspaces are created and counted', async () => {
    const before = await store().countWorkspaces();
    await newWorkspace(store());
    await newWorkspace(store());
    assert.equal(await store().countWorkspaces(), before + 2);
  });

  test('API keys: insert, find by hash, list, revoke', async () => {
    const ws = await newWorkspace(store());
    const other = await newWorkspace(store());
    const k1 = apiKey(ws, { id: newId('apiKey', T0), createdAt: T0 });
    const k2 = apiKey(ws, { id: newId('apiKey', T0 + 1), createdAt: T0 + 1, prefix: 'sfk_def' });
    await store().insertApiKey(k1);
    await store().insertApiKey(k2);
    assert.deepEqual(await store().findApiKeyByHash(k1.hash), k1);
    assert.equal(await store().findApiKeyByHash('no-such-hash'), undefined);
    assert.deepEqual(await store().listApiKeys(ws), [k1, k2]);
    assert.deepEqual(await store().listApiKeys(other), []);

    assert.equal(await store().revokeApiKey(other, k1.id, T0 + 5), false, 'another workspace cannot revoke it');
    assert.equal(await store().revokeApiKey(ws, k1.id, T0 + 5), true);
    assert.equal(await store().revokeApiKey(ws, k1.id, T0 + 6), false, 'already revoked');
    assert.equal(await store().revokeApiKey(ws, 'key_unknown', T0 + 6), false);
    assert.equal(await store().findApiKeyByHash(k1.hash), undefined);
    assert.deepEqual(await store().findApiKeyByHash(k2.hash), k2);
    assert.deepEqual(await store().listApiKeys(ws), [{ ...k1, revokedAt: T0 + 5 }, k2]);
  });

  test('endpoints: insert, get, list oldest first', async () => {
    const ws = await newWorkspace(store());
    const other = await newWorkspace(store());
    const b = await newEndpoint(store(), ws, { createdAt: T0 + 2, events: ['post_published', 'agent_trained'] });
    const a = await newEndpoint(store(), ws, {
      createdAt: T0 + 1,
      previousSecret: 'whsec_old',
      previousSecretExpiresAt: T0 + 86_400_000,
      status: 'disabled',
      disabledReason: 'The receiver answered 410 Gone.',
    });
    await newEndpoint(store(), other);
    assert.deepEqual(await store().getEndpoint(ws, a.id), a);
    assert.deepEqual(await store().getEndpoint(ws, b.id), b);
    assert.deepEqual(await store().listEndpoints(ws), [a, b]);
    assert.equal(await store().getEndpoint(other, a.id), undefined);
    assert.equal(await store().getEndpoint(ws, 'ep_unknown'), undefined);
  });

  test('endpoints: patch fields, events array, disable and enable again', async () => {
    const ws = await newWorkspace(store());
    const other = await newWorkspace(store());
    const e = await newEndpoint(store(), ws);
    const patched = await store().updateEndpoint(ws, e.id, { events: ['forecast_ready', 'agent_trained'], description: 'changed', url: undefined }, T0 + 10);
    const expected = { ...e, events: ['forecast_ready', 'agent_trained'], description: 'changed', updatedAt: T0 + 10 };
    assert.deepEqual(patched, expected, 'an undefined field is left alone');
    assert.deepEqual(await store().getEndpoint(ws, e.id), expected);

    const disabled = await store().updateEndpoint(ws, e.id, { status: 'disabled', disabledReason: 'too many failures' }, T0 + 20);
    assert.deepEqual(disabled, { ...expected, status: 'disabled', disabledReason: 'too many failures', updatedAt: T0 + 20 });
    const rotated = await store().updateEndpoint(
      ws, e.id,
      { status: 'enabled', disabledReason: null, secret: 'whsec_new', previousSecret: 'whsec_current', previousSecretExpiresAt: T0 + 1000 },
      T0 + 30,
    );
    const final = { ...expected, secret: 'whsec_new', previousSecret: 'whsec_current', previousSecretExpiresAt: T0 + 1000, updatedAt: T0 + 30 };
    assert.deepEqual(rotated, final);
    assert.equal(await store().updateEndpoint(other, e.id, { description: 'hijack' }, T0 + 40), undefined);
    assert.equal(await store().updateEndpoint(ws, 'ep_unknown', { description: 'x' }, T0 + 40), undefined);
    assert.deepEqual(await store().getEndpoint(ws, e.id), final);
  });

  test('endpoints: delete takes deliveries and attempts along, not the event', async () => {
    const ws = await newWorkspace(store());
    const other = await newWorkspace(store());
    const e = await newEndpoint(store(), ws);
    const keep = await newEndpoint(store(), ws);
    const { event, deliveries } = await publishTo(store(), ws, [e.id, keep.id], { delivery: { status: 'succeeded', nextAttemptAt: null } });
    const [gone, kept] = deliveries as [DeliveryRecord, DeliveryRecord];
    const testEvent = eventRecord(ws, { isTest: true });
    const testDelivery = deliveryRecord(testEvent, e.id, { status: 'succeeded', attempts: 1, nextAttemptAt: null });
    await store().recordTestSend(testEvent, testDelivery, attemptRecord(testDelivery));
    assert.equal((await store().listAttempts(ws, testDelivery.id)).length, 1);
    assert.equal(await store().deleteEndpoint(other, e.id), false);
    assert.equal(await store().deleteEndpoint(ws, e.id), true);
    assert.equal(await store().deleteEndpoint(ws, e.id), false);
    assert.equal(await store().getEndpoint(ws, e.id), undefined);
    assert.equal(await store().getDelivery(ws, gone.id), undefined);
    assert.deepEqual(await store().listAttempts(ws, gone.id), []);
    assert.equal(await store().getDelivery(ws, testDelivery.id), undefined);
    assert.deepEqual(await store().listAttempts(ws, testDelivery.id), []);
    assert.deepEqual(await store().getEvent(ws, event.id), event);
    assert.deepEqual(await store().listDeliveriesForEvent(ws, event.id), [kept]);
  });

  test('publish stores the event and fans out, payload byte for byte', async () => {
    const ws = await newWorkspace(store());
    const e1 = await newEndpoint(store(), ws);
    const e2 = await newEndpoint(store(), ws);
    const payload = '{"event":"post_published", "z":1,"a":"é \u2028 😀 \\u0000","n":1.50}';
    const event = eventRecord(ws, { payload, fanout: 2 });
    const deliveries = [deliveryRecord(event, e1.id), deliveryRecord(event, e2.id, { maxAttempts: 7 })];
    assert.deepEqual(await store().publish({ event, deliveries }), { created: true, event });
    assert.deepEqual(await store().getEvent(ws, event.id), event);
    assert.equal((await store().getEvent(ws, event.id))!.payload, payload);
    assert.deepEqual(await store().listDeliveriesForEvent(ws, event.id), sortById(deliveries));
    assert.deepEqual(await store().getDelivery(ws, deliveries[1]!.id), deliveries[1]);

    const lonely = eventRecord(ws, { fanout: 0, isTest: true });
    assert.deepEqual(await store().publish({ event: lonely, deliveries: [] }), { created: true, event: lonely });
    assert.deepEqual(await store().getEvent(ws, lonely.id), lonely);
    assert.deepEqual(await store().listDeliveriesForEvent(ws, lonely.id), []);
  });

  test('publish with an idempotency key returns the first event', async () => {
    const ws = await newWorkspace(store());
    const other = await newWorkspace(store());
    const e = await newEndpoint(store(), ws);
    const first = eventRecord(ws);
    const firstDelivery = deliveryRecord(first, e.id);
    const outcome = await store().publish({ event: first, deliveries: [firstDelivery], idempotencyKey: 'k-1', requestHash: 'h1' });
    assert.deepEqual(outcome, { created: true, event: first });

    const second = eventRecord(ws, { payload: '{"different":true}' });
    const secondDelivery = deliveryRecord(second, e.id);
    const replay = await store().publish({ event: second, deliveries: [secondDelivery], idempotencyKey: 'k-1', requestHash: 'h2' });
    assert.deepEqual(replay, { created: false, event: first, requestHash: 'h1' });
    assert.equal(await store().getEvent(ws, second.id), undefined);
    assert.equal(await store().getDelivery(ws, secondDelivery.id), undefined);
    assert.deepEqual(await store().listDeliveriesForEvent(ws, first.id), [firstDelivery]);

    const elsewhere = eventRecord(other);
    assert.deepEqual(await store().publish({ event: elsewhere, deliveries: [], idempotencyKey: 'k-1' }), { created: true, event: elsewhere });
    const noHash = await store().publish({ event: eventRecord(other), deliveries: [], idempotencyKey: 'k-1' });
    assert.deepEqual(noHash, { created: false, event: elsewhere, requestHash: null });
  });

  test('concurrent publishes with one idempotency key make one event', async () => {
    const ws = await newWorkspace(store());
    const e = await newEndpoint(store(), ws);
    const events = Array.from({ length: 6 }, () => eventRecord(ws));
    const outcomes = await Promise.all(
      events.map((event) => store().publish({ event, deliveries: [deliveryRecord(event, e.id)], idempotencyKey: 'race', requestHash: event.id })),
    );
    const winners = outcomes.filter((o) => o.created);
    assert.equal(winners.length, 1);
    const winner = winners[0]!.event;
    for (const o of outcomes) {
      assert.deepEqual(o.event, winner);
      if (!o.created) assert.equal(o.requestHash, winner.id);
    }
    const page = await store().listDeliveries(ws, e.id, { limit: 10 });
    assert.deepEqual(page.data.map((d) => d.eventId), [winner.id]);
  });

  test('publishes arriving together, keyed and not, each get their own outcome in order', async () => {
    const ws = await newWorkspace(store());
    const e = await newEndpoint(store(), ws);
    const events = Array.from({ length: 6 }, () => eventRecord(ws));
    const keys = [undefined, 'mix-a', undefined, 'mix-a', 'mix-b', undefined];
    const outcomes = await Promise.all(
      events.map((event, i) =>
        store().publish({ event, deliveries: [deliveryRecord(event, e.id)], idempotencyKey: keys[i], requestHash: keys[i] && event.id }),
      ),
    );
    assert.deepEqual(outcomes.map((o) => o.created), [true, true, true, false, true, true], 'the second use of a key is the replay');
    assert.deepEqual(outcomes.map((o) => o.event.id), [events[0]!.id, events[1]!.id, events[2]!.id, events[1]!.id, events[4]!.id, events[5]!.id]);
    for (const i of [0, 1, 2, 4, 5]) {
      assert.deepEqual(await store().getEvent(ws, events[i]!.id), events[i], `event ${i} stored`);
      assert.equal((await store().listDeliveriesForEvent(ws, events[i]!.id)).length, 1, `event ${i} fanned out`);
    }
    assert.equal(await store().getEvent(ws, events[3]!.id), undefined, 'the replay stored nothing');
  });

  test('a publish to an endpoint deleted since it was listed leaves that delivery out; its group is unharmed', async () => {
    const ws = await newWorkspace(store());
    const [kept, deleted] = [await newEndpoint(store(), ws), await newEndpoint(store(), ws)];
    await store().deleteEndpoint(ws, deleted.id);
    const late = eventRecord(ws, { fanout: 2 });
    const neighbour = eventRecord(ws, { fanout: 1 });
    const [lateOutcome, neighbourOutcome] = await Promise.all([
      store().publish({ event: late, deliveries: [deliveryRecord(late, kept.id), deliveryRecord(late, deleted.id)] }),
      store().publish({ event: neighbour, deliveries: [deliveryRecord(neighbour, kept.id)] }),
    ]);
    const stored = { ...late, fanout: 1 };
    assert.deepEqual(lateOutcome, { created: true, event: stored, endpointsGone: new Set([deleted.id]) });
    assert.deepEqual(neighbourOutcome, { created: true, event: neighbour });
    assert.deepEqual(await store().getEvent(ws, late.id), stored);
    assert.deepEqual((await store().listDeliveriesForEvent(ws, late.id)).map((d) => d.endpointId), [kept.id]);
    assert.equal((await store().listDeliveriesForEvent(ws, neighbour.id)).length, 1);
  });

  test('listDeliveries: newest first, filters, cursor pages with exact ids', async () => {
    const ws = await newWorkspace(store());
    const other = await newWorkspace(store());
    const e = await newEndpoint(store(), ws);
    const elsewhere = await newEndpoint(store(), ws);
    const made = [];
    for (let i = 0; i < 7; i++) {
      const type = i % 2 === 0 ? 'post_published' : 'agent_trained';
      const status = i % 3 === 0 ? 'failed' : 'succeeded';
      const { deliveries } = await publishTo(store(), ws, [e.id, elsewhere.id], {
        event: { type, createdAt: T0 + i * 10 },
        delivery: { status, nextAttemptAt: null },
      });
      made.push(deliveries[0]!);
    }
    const newest = [...made].reverse();
    const ids = (page: { data: { id: string }[] }) => page.data.map((d) => d.id);

    const p1 = await store().listDeliveries(ws, e.id, { limit: 3 });
    assert.deepEqual(p1, { data: newest.slice(0, 3), nextCursor: newest[2]!.id });
    const p2 = await store().listDeliveries(ws, e.id, { limit: 3, cursor: p1.nextCursor! });
    assert.deepEqual(ids(p2), ids({ data: newest.slice(3, 6) }));
    assert.equal(p2.nextCursor, newest[5]!.id);
    const p3 = await store().listDeliveries(ws, e.id, { limit: 3, cursor: p2.nextCursor! });
    assert.deepEqual(p3, { data: newest.slice(6), nextCursor: null });
    const exact = await store().listDeliveries(ws, e.id, { limit: 7 });
    assert.deepEqual({ ids: ids(exact), next: exact.nextCursor }, { ids: ids({ data: newest }), next: null }, 'a full last page has no cursor');

    const failed = newest.filter((d) => d.status === 'failed');
    assert.deepEqual(await store().listDeliveries(ws, e.id, { limit: 10, status: 'failed' }), { data: failed, nextCursor: null });
    const trained = newest.filter((d) => d.eventType === 'agent_trained');
    assert.deepEqual(ids(await store().listDeliveries(ws, e.id, { limit: 10, eventType: 'agent_trained' })), ids({ data: trained }));
    const both = newest.filter((d) => d.eventType === 'post_published' && d.status === 'succeeded');
    const f1 = await store().listDeliveries(ws, e.id, { limit: 1, status: 'succeeded', eventType: 'post_published' });
    assert.deepEqual(f1, { data: both.slice(0, 1), nextCursor: both[0]!.id });
    const f2 = await store().listDeliveries(ws, e.id, { limit: 5, status: 'succeeded', eventType: 'post_published', cursor: f1.nextCursor! });
    assert.deepEqual(f2, { data: both.slice(1), nextCursor: null });
    assert.deepEqual(await store().listDeliveries(ws, e.id, { limit: 5, status: 'pending' }), { data: [], nextCursor: null });
    assert.deepEqual(await store().listDeliveries(other, e.id, { limit: 5 }), { data: [], nextCursor: null });
  });

  test('workspace isolation: another workspace sees nothing', async () => {
    const ws = await newWorkspace(store());
    const other = await newWorkspace(store());
    const e = await newEndpoint(store(), ws);
    const { event, deliveries } = await publishTo(store(), ws, [e.id]);
    const d = deliveries[0]!;
    assert.equal(await store().getEvent(other, event.id), undefined);
    assert.deepEqual(await store().listDeliveriesForEvent(other, event.id), []);
    assert.equal(await store().getDelivery(other, d.id), undefined);
    assert.deepEqual(await store().listAttempts(other, d.id), []);
    assert.equal(await store().requeueDelivery(other, d.id, T0 + 1), undefined);
    assert.deepEqual(await store().endpointSummaries(other, 0), []);
    assert.deepEqual(await store().listEndpoints(other), []);
    assert.equal(await store().deleteEndpoint(other, e.id), false);
    const stats = await store().deliveryStats(other, e.id, Date.now() - 1000, 60_000);
    assert.ok(stats.every((b) => b.succeeded === 0 && b.failed === 0));
    assert.deepEqual(await store().getDelivery(ws, d.id), d, 'the owner still sees it unchanged');
  });
}

/**
 * Nothing accepted is lost: a server killed with SIGKILL while hundreds of deliveries are queued
 * or in flight delivers every one of them after a restart; SIGTERM lets attempts in flight
 * finish and exits 0; the retention purge removes ended logs and nothing else.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { EVENT_TYPES } from '../../src/domain/catalog.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function setup(env: Record<string, string> = {}): Promise<{ server: TestServer; receiver: Receiver; webhookId: string }> {
  const server = await startServer(env);
  cleanups.push(() => server.close());
  const receiver = await startReceiver();
  cleanups.push(() => receiver.close());
  const res = await server.api('POST', '/v1/webhooks', { url: receiver.url, events: ['*'] });
  receiver.secrets = [res.body.secret];
  return { server, receiver, webhookId: res.body.id };
}

async function allDeliveries(server: TestServer, webhookId: string) {
  const all: { status: string; event_id: string }[] = [];
  let cursor: string | null = null;
  do {
    const page: { body: { data: typeof all; next_cursor: string | null } } = await server.api(
      'GET',
      `/v1/webhooks/${webhookId}/deliveries?limit=100${cursor ? `&cursor=${cursor}` : ''}`,
    );
    all.push(...page.body.data);
    cursor = page.body.next_cursor;
  } while (cursor);
  return all;
}

describe('crash safety', () => {
  test('kill -9 with 500 events queued loses none after restart', async () => {
    const { server, receiver, webhookId } = await setup({ SOCIALFLOW_CONCURRENCY: '16' });
    // While the server is up, the receiver is slow: most deliveries are still queued or in flight at the kill.
    let slow = true;
    receiver.behave((_req, res) => setTimeout(() => res.writeHead(200).end(), slow ? 1000 : 0));
    const published = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const res = await server.api('POST', '/v1/events', { ...EVENT_TYPES[0]!.example, post_id: `p-${i}` });
      assert.equal(res.status, 202);
      published.add(res.body.id);
    }
    await server.kill();
    const arrivedBeforeKill = new Set(receiver.received.map((r) => String(r.headers['webhook-id']))).size;
    assert.ok(arrivedBeforeKill < 500, 'the kill came while deliveries were outstanding');
    slow = false;

    await server.restart();
    await waitFor(() => new Set(receiver.received.map((r) => String(r.headers['webhook-id']))).size === 500, {
      timeoutMs: 60_000,
      what: 'all 500 events to arrive after the restart',
    });
    const ids = receiver.received.map((r) => String(r.headers['webhook-id']));
    assert.deepEqual(new Set(ids), published);
    assert.ok(receiver.received.every((r) => r.verified), 'every arrival verifies');
    // Only attempts in flight at the kill (at most the worker's concurrency) may come twice.
    assert.ok(ids.length - 500 <= 16, `${ids.length - 500} duplicates`);
    const deliveries = await waitFor(async () => {
      const all = await allDeliveries(server, webhookId);
      return all.every((d) => d.status === 'succeeded') ? all : undefined;
    });
    assert.equal(deliveries.length, 500);
  });

  test('SIGTERM lets an attempt in flight finish, records it, and exits 0', async () => {
    const { server, receiver, webhookId } = await setup();
    receiver.behave((_req, res) => setTimeout(() => res.writeHead(200).end('done'), 800));
    const published = await server.api('POST', '/v1/events', EVENT_TYPES[0]!.example);
    await waitFor(() => receiver.received.length === 1, { what: 'the attempt to start' });
    const code = await server.stop();
    assert.equal(code, 0);
    await assert.rejects(fetch(`${server.url}/healthz`), 'no longer listening');
    receiver.behave((_req, res) => res.writeHead(500).end());
    await server.restart();
    const event = await server.api('GET', `/v1/events/${published.body.id}`);
    const delivery = event.body.deliveries.find((d: { webhook_id: string }) => d.webhook_id === webhookId);
    assert.equal(delivery.status, 'succeeded');
    assert.equal(delivery.attempts, 1);
    assert.equal(receiver.received.length, 1);
  });
});

describe('retention', () => {
  test('ended deliveries, their attempts and events are purged after the retention window', async () => {
    const { server, webhookId } = await setup({ SOCIALFLOW_LOG_RETENTION_SECONDS: '2', SOCIALFLOW_PURGE_INTERVAL_MS: '200' });
    const published = await server.api('POST', '/v1/events', EVENT_TYPES[0]!.example);
    const deliveryId = await waitFor(async () => {
      const event = await server.api('GET', `/v1/events/${published.body.id}`);
      const d = event.body.deliveries?.[0];
      return d?.status === 'succeeded' ? (d.id as string) : undefined;
    });
    // Still there right after it ended…
    assert.equal((await server.api('GET', `/v1/deliveries/${deliveryId}`)).status, 200);
    // …and gone once the window has passed.
    await waitFor(async () => (await server.api('GET', `/v1/deliveries/${deliveryId}`)).status === 404, {
      timeoutMs: 10_000,
      what: 'the purge',
    });
    assert.equal((await server.api('GET', `/v1/events/${published.body.id}`)).status, 404);
    assert.deepEqual((await server.api('GET', `/v1/webhooks/${webhookId}/deliveries`)).body.data, []);
    assert.equal((await server.api('GET', `/v1/webhooks/${webhookId}`)).status, 200, 'the endpoint itself stays');
  });
});

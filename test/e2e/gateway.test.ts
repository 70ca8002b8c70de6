/**
 * The gateway end to end: the real server as a child process, real receivers on loopback that
 * verify signatures with the `standardwebhooks` package, and the API as a developer uses it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EVENT_TYPES } from '../../src/domain/catalog.js';
import { answer, startReceiver, type Receiver } from '../helpers/receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

let server: TestServer;
const receivers: Receiver[] = [];

async function receiverFor(events: string[]): Promise<{ receiver: Receiver; webhookId: string }> {
  const receiver = await startReceiver();
  receivers.push(receiver);
  const res = await server.api('POST', '/v1/webhooks', { url: receiver.url, events, description: 'test receiver' });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  receiver.secrets = [res.body.secret];
  return { receiver, webhookId: res.body.id };
}

async function deliveryOf(eventId: string, webhookId: string) {
  const event = await server.api('GET', `/v1/events/${eventId}`);
  const delivery = event.body.deliveries.find((d: { webhook_id: string }) => d.webhook_id === webhookId);
  return (await server.api('GET', `/v1/deliveries/${delivery.id}`)).body;
}

async function settled(eventId: string, webhookId: string) {
  return waitFor(
    async () => {
      const d = await deliveryOf(eventId, webhookId);
      return d.status !== 'pending' ? d : undefined;
    },
    { what: `delivery of ${eventId} to settle` },
  );
}

before(async () => {
  server = await startServer();
});

after(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await server.close();
});

describe('publish and fan-out', () => {
  test('one event of each type arrives exactly as published, signed, and verifies', async () => {
    const { receiver, webhookId } = await receiverFor(['*']);
    const published: Record<string, { id: string; body: Record<string, unknown> }> = {};
    for (const type of EVENT_TYPES) {
      const body = { ...type.example, custom_field: { nested: [1, 'two'] } };
      const res = await server.api('POST', '/v1/events', body);
      assert.equal(res.status, 202, JSON.stringify(res.body));
      assert.match(res.body.id, /^evt_[0-9A-Z]{26}$/);
      assert.equal(res.body.deliveries, 1);
      assert.equal(res.body.event, type.name);
      published[type.name] = { id: res.body.id, body };
    }
    await waitFor(() => receiver.received.length >= EVENT_TYPES.length, { what: 'every type to arrive' });
    assert.equal(receiver.received.length, EVENT_TYPES.length);
    for (const got of receiver.received) {
      assert.ok(got.verified, 'the signature verifies with the standardwebhooks package');
      const sent = published[(got.verified as { event: string }).event]!;
      assert.deepEqual(JSON.parse(got.body), sent.body, 'the body is exactly what was published, extra fields included');
      assert.equal(got.headers['webhook-id'], sent.id);
      assert.equal(got.headers['content-type'], 'application/json');
      assert.match(String(got.headers['webhook-signature']), /^v1,[A-Za-z0-9+/]+=*$/);
      assert.ok(Math.abs(Number(got.headers['webhook-timestamp']) - Date.now() / 1000) < 60);
    }
    const first = await settled(published.post_published!.id, webhookId);
    assert.equal(first.status, 'succeeded');
  });

  test('the timestamp is filled in when the producer leaves it out', async () => {
    const { receiver } = await receiverFor(['agent_trained']);
    const res = await server.api('POST', '/v1/events', { event: 'agent_trained', agent_id: 'sf_1', memory_version: 3, action: 'reset' });
    assert.equal(res.status, 202);
    await waitFor(() => receiver.received[0]);
    const body = JSON.parse(receiver.received[0]!.body);
    assert.match(body.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual(Object.keys(body), ['event', 'timestamp', 'agent_id', 'memory_version', 'action']);
  });

  test('an endpoint does not receive types it did not subscribe to', async () => {
    const { receiver: onlyPosts, webhookId } = await receiverFor(['post_published']);
    const res = await server.api('POST', '/v1/events', EVENT_TYPES.find((t) => t.name === 'plugin_triggered')!.example);
    assert.equal(res.status, 202);
    const event = await server.api('GET', `/v1/events/${res.body.id}`);
    assert.equal(event.body.deliveries.some((d: { webhook_id: string }) => d.webhook_id === webhookId), false);
    // A post published afterwards does arrive, so the receiver was reachable all along.
    const post = await server.api('POST', '/v1/events', EVENT_TYPES[0]!.example);
    await settled(post.body.id, webhookId);
    assert.equal(onlyPosts.received.length, 1);
    assert.equal(JSON.parse(onlyPosts.received[0]!.body).event, 'post_published');
  });

  test('a disabled endpoint gets nothing; enabled again, it gets new events', async () => {
    const { receiver, webhookId } = await receiverFor(['post_published']);
    assert.equal((await server.api('PATCH', `/v1/webhooks/${webhookId}`, { status: 'disabled' })).body.status, 'disabled');
    const skipped = await server.api('POST', '/v1/events', EVENT_TYPES[0]!.example);
    const event = await server.api('GET', `/v1/events/${skipped.body.id}`);
    assert.equal(event.body.deliveries.some((d: { webhook_id: string }) => d.webhook_id === webhookId), false);
    await server.api('PATCH', `/v1/webhooks/${webhookId}`, { status: 'enabled' });
    const sent = await server.api('POST', '/v1/events', EVENT_TYPES[0]!.example);
    await settled(sent.body.id, webhookId);
    assert.equal(receiver.received.length, 1);
  });
});

describe('retries and the delivery log', () => {
  test('a receiver that fails twice then answers 200 shows 3 attempts and succeeded', async () => {
    const { receiver, webhookId } = await receiverFor(['post_published']);
    receiver.behave((_req, res, n) => (n <= 2 ? res.writeHead(500).end('not yet') : res.writeHead(200).end('finally')));
    const res = await server.api('POST', '/v1/events', EVENT_TYPES[0]!.example);
    const delivery = await settled(res.body.id, webhookId);
    assert.equal(delivery.status, 'succeeded');
    assert.equal(delivery.attempts.length, 3);
    assert.deepEqual(delivery.attempts.map((a: { number: number }) => a.number), [1, 2, 3]);
    assert.deepEqual(delivery.attempts.map((a: { response: { status: number } }) => a.response.status), [500, 500, 200]);
    assert.deepEqual(delivery.attempts.map((a: { ok: boolean }) => a.ok), [false, false, true]);
    assert.equal(delivery.attempts[0].response.body, 'not yet');
    assert.equal(delivery.attempts[0].failure, 'status');
    assert.match(delivery.attempts[0].error, /500/);
    // Every attempt carries the same webhook-id, and the log shows the request as sent.
    assert.equal(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size, 1);
    const attempt = delivery.attempts[2];
    assert.equal(attempt.request.url, receiver.url);
    assert.equal(attempt.request.body, receiver.received[2]!.body);
    assert.equal(attempt.request.headers['webhook-id'], res.body.id);
    assert.equal(typeof attempt.duration_ms, 'number');
    // Backoff: the attempts are spread out, not fired back to back.
    const times = receiver.received.map((r) => r.at);
    assert.ok(times[1]! - times[0]! >= 40, `second attempt came ${times[1]! - times[0]!} ms after the first`);
  });

  test('a receiver that always fails gets exactly 3 attempts, ends failed, and can be resent by hand', async () => {
    const { receiver, webhookId } = await receiverFor(['post_published']);
    receiver.behave(answer(503, 'down'));
    const res = await server.api('POST', '/v1/events', EVENT_TYPES[0]!.example);
    const delivery = await settled(res.body.id, webhookId);
    assert.equal(delivery.status, 'failed');
    assert.equal(delivery.attempts.length, 3);
    assert.equal(delivery.last_status_code, 503);
    // No fourth attempt comes by itself.
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(receiver.received.length, 3);

    receiver.behave(answer(204));
    const retry = await server.api('POST', `/v1/deliveries/${delivery.id}/retry`);
    assert.equal(retry.status, 202);
    assert.equal(retry.body.status, 'pending');
    const after = await settled(res.body.id, webhookId);
    assert.equal(after.status, 'succeeded');
    assert.equal(after.attempts.length, 4);
    assert.equal(receiver.received.length, 4);
  });

  test('a redirect is a failure and is not followed', async () => {
    const target = await startReceiver();
    receivers.push(target);
    const { receiver, webhookId } = await receiverFor(['post_published']);
    receiver.behave(answer(302, '', { location: target.url }));
    const res = await server.api('POST', '/v1/events', EVENT_TYPES[0]!.example);
    const delivery = await settled(res.body.id, webhookId);
    assert.equal(delivery.status, 'failed');
    assert.equal(delivery.attempts[0].response.status, 302);
    assert.match(delivery.attempts[0].error, /redirect/);
    assert.equal(target.received.length, 0);
  });

  test('connection errors are logged in plain words', async () => {
    const gone = await startReceiver();
    await gone.close();
    const created = await server.api('POST', '/v1/webhooks', { url: gone.url, events: ['post_published'] });
    const res = await server.api('POST', '/v1/events', EVENT_TYPES[0]!.example);
    const delivery = await settled(res.body.id, created.body.id);
    assert.equal(delivery.status, 'failed');
    assert.equal(delivery.attempts[0].failure, 'connection');
    assert.equal(delivery.attempts[0].response, null);
    assert.match(delivery.attempts[0].error, /refused/);
  });

  test('deliveries list newest first, filter by status and event, and paginate with a cursor', async () => {
    const { receiver, webhookId } = await receiverFor(['*']);
    receiver.behave((_req, res, _n, body) => res.writeHead(JSON.parse(body).event === 'agent_trained' ? 400 : 200).end());
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const type = i % 2 === 0 ? 'agent_trained' : 'post_published';
      const example = EVENT_TYPES.find((t) => t.name === type)!.example;
      ids.push((await server.api('POST', '/v1/events', { ...example, seq: i })).body.id);
    }
    await waitFor(async () => {
      const all = await server.api('GET', `/v1/webhooks/${webhookId}/deliveries?limit=100`);
      return all.body.data.every((d: { status: string }) => d.status !== 'pending') && all.body.data.length === 5;
    });
    const page1 = await server.api('GET', `/v1/webhooks/${webhookId}/deliveries?limit=2`);
    assert.equal(page1.status, 200);
    assert.deepEqual(page1.body.data.map((d: { event_id: string }) => d.event_id), [ids[4], ids[3]]);
    const page2 = await server.api('GET', `/v1/webhooks/${webhookId}/deliveries?limit=2&cursor=${page1.body.next_cursor}`);
    assert.deepEqual(page2.body.data.map((d: { event_id: string }) => d.event_id), [ids[2], ids[1]]);
    const page3 = await server.api('GET', `/v1/webhooks/${webhookId}/deliveries?limit=2&cursor=${page2.body.next_cursor}`);
    assert.deepEqual(page3.body.data.map((d: { event_id: string }) => d.event_id), [ids[0]]);
    assert.equal(page3.body.next_cursor, null);

    const failed = await server.api('GET', `/v1/webhooks/${webhookId}/deliveries?status=failed`);
    assert.deepEqual(failed.body.data.map((d: { event_id: string }) => d.event_id), [ids[4], ids[2], ids[0]]);
    const posts = await server.api('GET', `/v1/webhooks/${webhookId}/deliveries?event=post_published&status=succeeded`);
    assert.deepEqual(posts.body.data.map((d: { event_id: string }) => d.event_id), [ids[3], ids[1]]);
  });

  test('the 24 h stats and the list summary count attempts', async () => {
    const { receiver, webhookId } = await receiverFor(['post_published']);
    receiver.behave((_req, res, n) => res.writeHead(n === 1 ? 500 : 200).end());
    const res = await server.api('POST', '/v1/events', EVENT_TYPES[0]!.example);
    await settled(res.body.id, webhookId);
    const stats = await server.api('GET', `/v1/webhooks/${webhookId}/stats?window=24h`);
    assert.equal(stats.status, 200);
    assert.equal(stats.body.bucket_ms, 3600_000);
    const totals = stats.body.buckets.reduce(
      (t: { ok: number; bad: number }, b: { succeeded: number; failed: number }) => ({ ok: t.ok + b.succeeded, bad: t.bad + b.failed }),
      { ok: 0, bad: 0 },
    );
    assert.deepEqual(totals, { ok: 1, bad: 1 });
    const list = await server.api('GET', '/v1/webhooks');
    const item = list.body.data.find((w: { id: string }) => w.id === webhookId);
    assert.equal(item.stats.attempts_24h, 2);
    assert.equal(item.stats.success_rate_24h, 0.5);
    assert.equal(item.stats.last_attempt_ok, true);
  });
});

describe('idempotency', () => {
  test('a repeated publish with the same Idempotency-Key returns the first result and fans out once', async () => {
    const { receiver, webhookId } = await receiverFor(['post_published']);
    const headers = { 'idempotency-key': `key-${Date.now()}` };
    const body = { ...EVENT_TYPES[0]!.example, post_id: 'idem-1' };
    const first = await server.api('POST', '/v1/events', body, headers);
    const second = await server.api('POST', '/v1/events', body, headers);
    assert.equal(first.status, 202);
    assert.equal(second.status, 202);
    assert.equal(second.body.id, first.body.id);
    assert.equal(second.headers.get('idempotent-replayed'), 'true');
    await settled(first.body.id, webhookId);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(receiver.received.length, 1);
    const clash = await server.api('POST', '/v1/events', { ...body, post_id: 'other' }, headers);
    assert.equal(clash.status, 409);
    assert.equal(clash.body.error.code, 'idempotency_conflict');
  });
});

describe('simulator', () => {
  test('a test send delivers the example signed, reports the outcome and is logged as a test', async () => {
    const { receiver, webhookId } = await receiverFor(['post_published']);
    receiver.behave(answer(200, '{"thanks":true}', { 'x-receiver': 'yes' }));
    const res = await server.api('POST', `/v1/webhooks/${webhookId}/test`, { event: 'forecast_ready' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.ok, true);
    assert.equal(res.body.status_code, 200);
    assert.equal(res.body.response_body, '{"thanks":true}');
    assert.equal(res.body.response_headers['x-receiver'], 'yes');
    assert.equal(res.body.error, null);
    const got = receiver.received[0]!;
    assert.ok(got.verified);
    const { timestamp: _t, ...rest } = JSON.parse(got.body);
    const { timestamp: _e, ...example } = EVENT_TYPES.find((t) => t.name === 'forecast_ready')!.example;
    assert.deepEqual(rest, example);
    const logged = await server.api('GET', `/v1/deliveries/${res.body.delivery_id}`);
    assert.equal(logged.body.test, true);
    assert.equal(logged.body.status, 'succeeded');
    assert.equal(logged.body.attempts.length, 1);
  });

  test('an edited payload is sent, and a network failure is reported in words', async () => {
    const { receiver, webhookId } = await receiverFor(['*']);
    const edited = await server.api('POST', `/v1/webhooks/${webhookId}/test`, {
      event: 'agent_trained',
      payload: { agent_id: 'sf_custom', memory_version: 99, action: 'reset' },
    });
    assert.equal(edited.body.ok, true);
    assert.equal(JSON.parse(receiver.received[0]!.body).agent_id, 'sf_custom');
    const invalid = await server.api('POST', `/v1/webhooks/${webhookId}/test`, { event: 'agent_trained', payload: { agent_id: 'x' } });
    assert.equal(invalid.status, 400);
    assert.match(invalid.body.error.message, /memory_version/);
    await receiver.close();
    const failed = await server.api('POST', `/v1/webhooks/${webhookId}/test`, { event: 'agent_trained' });
    assert.equal(failed.status, 200);
    assert.equal(failed.body.ok, false);
    assert.equal(failed.body.status_code, null);
    assert.equal(failed.body.failure, 'connection');
    assert.match(failed.body.error, /refused/);
  });
});

describe('endpoints', () => {
  test('create, read, update, rotate the secret, delete', async () => {
    const created = await server.api('POST', '/v1/webhooks', { url: 'https://example.com/hooks', events: ['post_published', 'post_published'] });
    assert.equal(created.status, 201);
    assert.match(created.body.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.deepEqual(created.body.events, ['post_published']);
    assert.equal(created.body.status, 'enabled');
    const id = created.body.id;
    const got = await server.api('GET', `/v1/webhooks/${id}`);
    assert.equal(got.body.url, 'https://example.com/hooks');
    assert.equal(got.body.secret, undefined, 'the secret is not part of the plain read');
    const patched = await server.api('PATCH', `/v1/webhooks/${id}`, { events: ['*'], description: 'all of it' });
    assert.deepEqual(patched.body.events, ['*']);
    assert.equal(patched.body.description, 'all of it');
    const secret = await server.api('GET', `/v1/webhooks/${id}/secret`);
    assert.equal(secret.body.secret, created.body.secret);
    const rotated = await server.api('POST', `/v1/webhooks/${id}/secret/rotate`);
    assert.notEqual(rotated.body.secret, created.body.secret);
    assert.ok(Date.parse(rotated.body.previous_secret_expires_at) > Date.now() + 23 * 3600_000);
    assert.equal((await server.api('DELETE', `/v1/webhooks/${id}`)).status, 204);
    assert.equal((await server.api('GET', `/v1/webhooks/${id}`)).status, 404);
  });

  test('after a rotation, deliveries verify with the old and the new secret', async () => {
    const { receiver, webhookId } = await receiverFor(['post_published']);
    const oldSecret = receiver.secrets[0]!;
    const rotated = await server.api('POST', `/v1/webhooks/${webhookId}/secret/rotate`);
    const res = await server.api('POST', '/v1/events', EVENT_TYPES[0]!.example);
    await settled(res.body.id, webhookId);
    const got = receiver.received[0]!;
    assert.equal(String(got.headers['webhook-signature']).split(' ').length, 2);
    for (const secret of [oldSecret, rotated.body.secret]) {
      receiver.secrets = [secret];
      const { Webhook } = await import('standardwebhooks');
      assert.ok(new Webhook(secret).verify(got.body, got.headers as Record<string, string>));
    }
  });

  test('the event catalog lists the five types with schema and example', async () => {
    const res = await server.api('GET', '/v1/event-types');
    assert.deepEqual(
      res.body.data.map((t: { name: string }) => t.name),
      ['post_published', 'forecast_ready', 'agent_trained', 'analytics_updated', 'plugin_triggered'],
    );
    for (const t of res.body.data) {
      assert.equal(t.schema.type, 'object');
      assert.equal(t.example.event, t.name);
      assert.ok(t.description.length > 10);
    }
  });
});

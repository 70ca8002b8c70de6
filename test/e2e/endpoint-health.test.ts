/**
 * Endpoint health: a receiver's Retry-After is honoured (and capped), 410 Gone disables the
 * endpoint, an endpoint that keeps failing is disabled automatically, and a disabled endpoint
 * keeps its pending deliveries until it is enabled again. Per-endpoint caps keep a slow endpoint
 * from taking every delivery slot.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { EVENT_TYPES } from '../../src/domain/catalog.js';
import { answer, startReceiver, type Receiver } from '../helpers/receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function serverWith(env: Record<string, string>): Promise<TestServer> {
  const server = await startServer(env);
  cleanups.push(() => server.close());
  return server;
}

async function receiverOn(server: TestServer, body: Record<string, unknown> = {}): Promise<{ receiver: Receiver; id: string }> {
  const receiver = await startReceiver();
  cleanups.push(() => receiver.close());
  const res = await server.api('POST', '/v1/webhooks', { url: receiver.url, events: ['*'], ...body });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  receiver.secrets = [res.body.secret];
  return { receiver, id: res.body.id };
}

const publish = (server: TestServer, n = 0) => server.api('POST', '/v1/events', { ...EVENT_TYPES[0]!.example, post_id: `p-${n}` });

describe('endpoint health', () => {
  test('Retry-After on a 429 sets the next wait, capped by SOCIALFLOW_MAX_RETRY_AFTER_MS', async () => {
    const server = await serverWith({ SOCIALFLOW_MAX_RETRY_AFTER_MS: '1500' });
    const { receiver: polite } = await receiverOn(server);
    polite.behave((_req, res, n) => (n === 1 ? res.writeHead(429, { 'retry-after': '1' }).end() : res.writeHead(200).end()));
    await publish(server);
    await waitFor(() => polite.received.length === 2, { what: 'the retry after Retry-After' });
    const gap = polite.received[1]!.at - polite.received[0]!.at;
    assert.ok(gap >= 950, `waited ${gap} ms for Retry-After: 1 (the backoff alone would be about 100 ms)`);

    await server.api('PATCH', `/v1/webhooks/${(await server.api('GET', '/v1/webhooks')).body.data[0].id}`, { status: 'disabled' });
    const { receiver: greedy } = await receiverOn(server);
    greedy.behave((_req, res, n) => (n === 1 ? res.writeHead(503, { 'retry-after': '3600' }).end() : res.writeHead(200).end()));
    await publish(server, 1);
    await waitFor(() => greedy.received.length === 2, { what: 'the capped retry' });
    const capped = greedy.received[1]!.at - greedy.received[0]!.at;
    assert.ok(capped >= 1400 && capped < 5000, `an hour's Retry-After was capped to ${capped} ms`);
  });

  test('410 Gone disables the endpoint with a reason; its other pending deliveries wait until it is enabled', async () => {
    const server = await serverWith({ SOCIALFLOW_MAX_ATTEMPTS: '5', SOCIALFLOW_CONCURRENCY: '1', SOCIALFLOW_RETRY_BASE_MS: '3000' });
    const { receiver, id } = await receiverOn(server);
    // The first request is told the endpoint is gone; the second, already queued, fails once and waits for a retry.
    receiver.behave((_req, res, n) => (n === 1 ? res.writeHead(500).end() : res.writeHead(410).end('gone')));
    const first = await publish(server, 1);
    await waitFor(() => receiver.received.length === 1);
    await publish(server, 2);
    const endpoint = await waitFor(async () => {
      const e = (await server.api('GET', `/v1/webhooks/${id}`)).body;
      return e.status === 'disabled' ? e : undefined;
    });
    assert.match(endpoint.disabled_reason, /410 Gone/);
    // New events no longer fan out to it.
    assert.equal((await publish(server, 3)).body.deliveries, 0);
    // The first event's delivery is still pending (it had attempts left) and is not attempted.
    const pending = (await server.api('GET', `/v1/events/${first.body.id}`)).body.deliveries[0];
    assert.equal(pending.status, 'pending');
    const seen = receiver.received.length;
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.equal(receiver.received.length, seen, 'a disabled endpoint receives nothing');

    receiver.behave(answer(200));
    const enabled = await server.api('PATCH', `/v1/webhooks/${id}`, { status: 'enabled' });
    assert.equal(enabled.body.disabled_reason, null);
    await waitFor(async () => (await server.api('GET', `/v1/deliveries/${pending.id}`)).body.status === 'succeeded', {
      what: 'the kept delivery to go out after re-enabling',
    });
  });

  test('an endpoint that keeps failing is disabled automatically, and enabling it resumes delivery', async () => {
    const server = await serverWith({
      SOCIALFLOW_MAX_ATTEMPTS: '1',
      SOCIALFLOW_AUTO_DISABLE_AFTER_MS: '2000',
      SOCIALFLOW_AUTO_DISABLE_MIN_FAILURES: '3',
    });
    const { receiver, id } = await receiverOn(server);
    receiver.behave(answer(500));
    for (let i = 0; i < 3; i++) {
      await publish(server, i);
      await waitFor(() => receiver.received.length === i + 1);
    }
    const early = await waitFor(async () => {
      const e = (await server.api('GET', `/v1/webhooks/${id}`)).body;
      return e.consecutive_failures === 3 ? e : undefined;
    });
    const failingFor = Date.now() - Date.parse(early.failing_since);
    // Three failures in a row, but failing for less than the 2 s the policy asks for: still enabled.
    if (failingFor < 1800) assert.equal(early.status, 'enabled');
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 2100 - failingFor)));
    await publish(server, 4);
    const disabled = await waitFor(async () => {
      const e = (await server.api('GET', `/v1/webhooks/${id}`)).body;
      return e.status === 'disabled' ? e : undefined;
    });
    assert.match(disabled.disabled_reason, /Every attempt failed for more than 2 seconds and at least 3 deliveries in a row/);
    assert.ok(disabled.consecutive_failures >= 3);

    receiver.behave(answer(200));
    await server.api('PATCH', `/v1/webhooks/${id}`, { status: 'enabled' });
    const res = await publish(server, 5);
    assert.equal(res.body.deliveries, 1);
    await waitFor(() => receiver.received.some((r) => JSON.parse(r.body).post_id === 'p-5'));
    const healed = await waitFor(async () => {
      const e = (await server.api('GET', `/v1/webhooks/${id}`)).body;
      return e.consecutive_failures === 0 ? e : undefined;
    });
    assert.equal(healed.failing_since, null);
  });

  test('a slow endpoint gets no more than its cap of attempts at once; others are served meanwhile', async () => {
    const server = await serverWith({ SOCIALFLOW_CONCURRENCY: '8', SOCIALFLOW_ENDPOINT_CONCURRENCY: '3' });
    const { receiver: slow, id: slowId } = await receiverOn(server);
    let open = 0;
    let peak = 0;
    slow.behave((_req, res) => {
      peak = Math.max(peak, ++open);
      setTimeout(() => {
        open--;
        res.writeHead(200).end();
      }, 300);
    });
    await server.api('PATCH', `/v1/webhooks/${slowId}`, { events: ['post_published'] });
    const { receiver: other } = await receiverOn(server, { events: ['agent_trained'], max_concurrency: 2, rate_limit: 20 });
    for (let i = 0; i < 12; i++) await publish(server, i);
    for (let i = 0; i < 10; i++) await server.api('POST', '/v1/events', { ...EVENT_TYPES[2]!.example, memory_version: i });
    // The other endpoint is not stuck behind the slow one's backlog…
    await waitFor(() => other.received.length === 10, { timeoutMs: 5000, what: 'the other endpoint to be served' });
    // …and its rate limit spaced its 10 deliveries at about 20 per second.
    const span = other.received[9]!.at - other.received[0]!.at;
    assert.ok(span >= 400, `10 deliveries at 20/s took ${span} ms`);
    await waitFor(() => slow.received.length === 12, { timeoutMs: 10_000 });
    assert.equal(peak, 3, 'the slow endpoint never had more than 3 attempts in flight');
  });
});

/**
 * Bad input gets the documented 4xx with a JSON error body, and never a 500: malformed JSON,
 * wrong types, unknown events and fields, oversized bodies, bad keys, other workspaces' ids.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { EVENT_TYPES } from '../../src/domain/catalog.js';
import { ROOT, startServer, type TestServer } from '../helpers/server.js';

let server: TestServer;

before(async () => {
  server = await startServer({ SOCIALFLOW_MAX_BODY_BYTES: String(256 * 1024) });
});
after(() => server.close());

function assertError(res: { status: number; body: any }, status: number, code: string) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.error.code, code);
  assert.equal(typeof res.body.error.message, 'string');
  assert.ok(res.body.error.message.length > 5);
}

describe('authentication', () => {
  test('a missing, malformed or wrong key is 401', async () => {
    for (const authorization of [undefined, 'Basic abc', 'Bearer', 'Bearer wrong-key', `Bearer ${server.key}x`]) {
      const res = await fetch(`${server.url}/v1/webhooks`, { headers: authorization ? { authorization } : {} });
      assertError({ status: res.status, body: await res.json() }, 401, 'unauthorized');
    }
  });

  test('a revoked key stops working at once; a new key works', async () => {
    const created = await server.api('POST', '/v1/api-keys');
    assert.equal(created.status, 201);
    const asNew = (path: string, method = 'GET') =>
      fetch(server.url + path, { method, headers: { authorization: `Bearer ${created.body.key}` } });
    assert.equal((await asNew('/v1/webhooks')).status, 200);
    const list = await server.api('GET', '/v1/api-keys');
    assert.ok(list.body.data.some((k: { id: string; prefix: string }) => k.id === created.body.id && created.body.key.startsWith(k.prefix)));
    assert.equal(JSON.stringify(list.body).includes(created.body.key), false, 'keys are listed by prefix only');
    assert.equal((await server.api('DELETE', `/v1/api-keys/${created.body.id}`)).status, 204);
    assert.equal((await asNew('/v1/webhooks')).status, 401);
    assertError(await server.api('DELETE', `/v1/api-keys/${created.body.id}`), 404, 'not_found');
  });
});

describe('webhook registration', () => {
  const cases: [string, unknown, number, string][] = [
    ['not JSON', '{"url":', 400, 'invalid_json'],
    ['an array', '[]', 400, 'validation_failed'],
    ['no url', { events: ['*'] }, 400, 'validation_failed'],
    ['url of the wrong type', { url: 42, events: ['*'] }, 400, 'validation_failed'],
    ['events of the wrong type', { url: 'https://example.com', events: 'post_published' }, 400, 'validation_failed'],
    ['no events', { url: 'https://example.com', events: [] }, 400, 'validation_failed'],
    ['an unknown event', { url: 'https://example.com', events: ['post_deleted'] }, 400, 'unknown_event_type'],
    ['an unknown field', { url: 'https://example.com', events: ['*'], secret: 'mine' }, 400, 'validation_failed'],
    ['a non-http URL', { url: 'ftp://example.com/x', events: ['*'] }, 400, 'invalid_url'],
    ['a relative URL', { url: '/hooks', events: ['*'] }, 400, 'invalid_url'],
    ['credentials in the URL', { url: 'https://user:pass@example.com/', events: ['*'] }, 400, 'invalid_url'],
    ['a javascript: URL', { url: 'javascript:alert(1)', events: ['*'] }, 400, 'invalid_url'],
  ];
  for (const [name, body, status, code] of cases) {
    test(`${name} → ${status} ${code}`, async () => {
      assertError(await server.api('POST', '/v1/webhooks', body), status, code);
    });
  }

  test('a body that is not JSON is 415', async () => {
    const res = await fetch(`${server.url}/v1/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.key}`, 'content-type': 'text/plain' },
      body: 'url=https://example.com',
    });
    assertError({ status: res.status, body: await res.json() }, 415, 'unsupported_media_type');
  });

  test('unknown ids and bad patches', async () => {
    assertError(await server.api('GET', '/v1/webhooks/ep_nope'), 404, 'not_found');
    assertError(await server.api('PATCH', '/v1/webhooks/ep_nope', { description: 'x' }), 404, 'not_found');
    assertError(await server.api('DELETE', '/v1/webhooks/ep_nope'), 404, 'not_found');
    const created = await server.api('POST', '/v1/webhooks', { url: 'https://example.com/a', events: ['*'] });
    assertError(await server.api('PATCH', `/v1/webhooks/${created.body.id}`, { status: 'paused' }), 400, 'validation_failed');
    assertError(await server.api('PATCH', `/v1/webhooks/${created.body.id}`, { url: 'mailto:a@b.c' }), 400, 'invalid_url');
  });
});

describe('publishing', () => {
  const example = EVENT_TYPES[0]!.example;
  const cases: [string, unknown, number, string][] = [
    ['not JSON', '{"event": "post_published",', 400, 'invalid_json'],
    ['an array', '[1,2]', 400, 'validation_failed'],
    ['a string', '"post_published"', 400, 'validation_failed'],
    ['no event field', { agent_id: 'a' }, 400, 'validation_failed'],
    ['an unknown event type', { ...example, event: 'post_deleted' }, 400, 'unknown_event_type'],
    ['a missing required field', { ...example, post_id: undefined }, 400, 'validation_failed'],
    ['a field of the wrong type', { ...EVENT_TYPES[2]!.example, memory_version: 'seven' }, 400, 'validation_failed'],
    ['an out-of-range value', { ...EVENT_TYPES[1]!.example, slots: [{ at: '2025-01-01T00:00:00Z', probability: 2 }] }, 400, 'validation_failed'],
    ['a bad timestamp', { ...example, timestamp: 'yesterday' }, 400, 'validation_failed'],
    ['a prototype-poisoning key', '{"event":"post_published","__proto__":{"admin":true}}', 400, 'invalid_json'],
  ];
  for (const [name, body, status, code] of cases) {
    test(`${name} → ${status} ${code}`, async () => {
      assertError(await server.api('POST', '/v1/events', body), status, code);
    });
  }

  test('a missing field is named in the message', async () => {
    const res = await server.api('POST', '/v1/events', { ...example, content_preview: undefined });
    assert.match(res.body.error.message, /content_preview/);
  });

  test('a body over 256 KiB is 413; just under is accepted', async () => {
    const big = { ...example, content_preview: 'x'.repeat(4000), padding: 'y'.repeat(256 * 1024) };
    assertError(await server.api('POST', '/v1/events', big), 413, 'payload_too_large');
    const fits = { ...example, padding: 'y'.repeat(200 * 1024) };
    assert.equal((await server.api('POST', '/v1/events', fits)).status, 202);
  });

  test('an over-long Idempotency-Key is refused', async () => {
    assertError(await server.api('POST', '/v1/events', example, { 'idempotency-key': 'k'.repeat(300) }), 400, 'validation_failed');
  });

  test('unknown routes and ids answer 404 in JSON', async () => {
    assertError(await server.api('GET', '/v1/nothing-here'), 404, 'route_not_found');
    assertError(await server.api('GET', '/v1/events/evt_missing'), 404, 'not_found');
    assertError(await server.api('GET', '/v1/deliveries/del_missing'), 404, 'not_found');
    assertError(await server.api('POST', '/v1/deliveries/del_missing/retry'), 404, 'not_found');
    assertError(await server.api('GET', '/v1/webhooks/ep_x/deliveries?status=weird'), 400, 'validation_failed');
    assertError(await server.api('GET', '/v1/webhooks/ep_x/deliveries?limit=1000'), 400, 'validation_failed');
  });
});

describe('workspace isolation', () => {
  test("another workspace's webhooks, events and deliveries answer 404 and never show up", async () => {
    const created = await server.api('POST', '/v1/webhooks', { url: 'https://example.com/mine', events: ['*'] });
    const published = await server.api('POST', '/v1/events', EVENT_TYPES[0]!.example);
    const event = await server.api('GET', `/v1/events/${published.body.id}`);
    const deliveryId = event.body.deliveries[0].id;

    // A second workspace on the same store, made with the CLI as an operator would.
    const cli = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', 'keys', 'create'], {
      cwd: ROOT,
      env: { ...process.env, ...server.env, SOCIALFLOW_BOOTSTRAP_KEY: '' },
      encoding: 'utf8',
    });
    assert.equal(cli.status, 0, cli.stderr);
    const key = /sfk_[A-Za-z0-9_-]+/.exec(cli.stdout)![0];
    const as = async (method: string, path: string) => {
      const res = await fetch(server.url + path, { method, headers: { authorization: `Bearer ${key}` } });
      return { status: res.status, body: (await res.json()) as any };
    };
    assertError(await as('GET', `/v1/webhooks/${created.body.id}`), 404, 'not_found');
    assertError(await as('DELETE', `/v1/webhooks/${created.body.id}`), 404, 'not_found');
    assertError(await as('GET', `/v1/webhooks/${created.body.id}/deliveries`), 404, 'not_found');
    assertError(await as('POST', `/v1/webhooks/${created.body.id}/secret/rotate`), 404, 'not_found');
    assertError(await as('GET', `/v1/events/${published.body.id}`), 404, 'not_found');
    assertError(await as('GET', `/v1/deliveries/${deliveryId}`), 404, 'not_found');
    assertError(await as('POST', `/v1/deliveries/${deliveryId}/retry`), 404, 'not_found');
    assert.deepEqual((await as('GET', '/v1/webhooks')).body.data, []);
    // The owner still has everything.
    assert.equal((await server.api('GET', `/v1/webhooks/${created.body.id}`)).status, 200);
  });
});

describe('rate limiting', () => {
  test('a key over its per-second limit gets 429 with Retry-After; another key is unaffected', async () => {
    const limited = await startServer({ SOCIALFLOW_API_RATE_LIMIT: '5' });
    try {
      const other = await limited.api('POST', '/v1/api-keys');
      await new Promise((resolve) => setTimeout(resolve, 1100)); // a fresh window for the main key
      const statuses = await Promise.all(Array.from({ length: 12 }, () => limited.api('GET', '/v1/webhooks')));
      const refused = statuses.filter((r) => r.status === 429);
      assert.ok(refused.length >= 6, `${refused.length} of 12 refused`);
      assertError(refused[0]!, 429, 'rate_limited');
      assert.ok(Number(refused[0]!.headers.get('retry-after')) >= 1);
      // Keys are counted apart: the other key still gets through in the same second.
      const asOther = await fetch(`${limited.url}/v1/webhooks`, { headers: { authorization: `Bearer ${other.body.key}` } });
      assert.equal(asOther.status, 200);
    } finally {
      await limited.close();
    }
  });
});

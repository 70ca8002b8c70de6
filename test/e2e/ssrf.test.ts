/**
 * The SSRF guard as a caller meets it, on a server with the default policy (private targets
 * blocked): literal internal addresses in any notation are refused at registration, and a host
 * name that resolves to loopback is refused when the delivery dials it, so nothing arrives.
 */
import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

let server: TestServer;
let receiver: Receiver;

before(async () => {
  server = await startServer({ SOCIALFLOW_ALLOW_PRIVATE_TARGETS: 'false' });
  receiver = await startReceiver();
});
after(async () => {
  await receiver.close();
  await server.close();
});

describe('registration', () => {
  const refused = [
    'http://127.0.0.1/hook',
    'http://2130706433/hook',
    'http://0x7f.1/hook',
    'http://017700000001/hook',
    'http://127.1/hook',
    'http://0/hook',
    'http://10.0.0.8/hook',
    'http://172.16.5.4/hook',
    'http://192.168.1.1/hook',
    'http://169.254.169.254/latest/meta-data',
    'http://100.64.0.1/hook',
    'http://224.0.0.1/hook',
    'http://[::1]/hook',
    'http://[::ffff:127.0.0.1]/hook',
    'http://[fd00::1]/hook',
    'http://[fe80::1]/hook',
    'http://localhost/hook',
    'http://api.localhost./hook',
  ];
  for (const url of refused) {
    test(`${url} is refused with blocked_url`, async () => {
      const res = await server.api('POST', '/v1/webhooks', { url, events: ['*'] });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.error.code, 'blocked_url');
      assert.match(res.body.error.message, /may not reach private or internal networks/);
    });
  }

  test('changing a URL to an internal address is refused too', async () => {
    const created = await server.api('POST', '/v1/webhooks', { url: 'https://hooks.example.com/in', events: ['*'] });
    assert.equal(created.status, 201);
    const res = await server.api('PATCH', `/v1/webhooks/${created.body.id}`, { url: 'http://192.168.0.10/' });
    assert.equal(res.body.error.code, 'blocked_url');
  });
});

describe('connect time', () => {
  test('a host name that resolves to loopback is refused when dialled; the receiver gets nothing', async (t) => {
    // This machine's own name resolves to a loopback address here (from /etc/hosts), which makes it
    // a real name that passes registration and points inwards.
    const name = hostname();
    const { address } = await lookup(name).catch(() => ({ address: '' }));
    if (!/^127\./.test(address)) return t.skip(`${name} does not resolve to loopback on this machine`);
    const url = receiver.url.replace('127.0.0.1', name);
    const created = await server.api('POST', '/v1/webhooks', { url, events: ['*'] });
    assert.equal(created.status, 201, 'a name passes registration: its address is checked when dialled');
    const simulated = await server.api('POST', `/v1/webhooks/${created.body.id}/test`, { event: 'agent_trained' });
    assert.equal(simulated.body.ok, false);
    assert.equal(simulated.body.failure, 'blocked_address');
    assert.match(simulated.body.error, /loopback/);

    await server.api('POST', '/v1/events', { event: 'agent_trained', agent_id: 'a', memory_version: 1, action: 'reset' });
    const delivery = await waitFor(async () => {
      const list = await server.api('GET', `/v1/webhooks/${created.body.id}/deliveries?status=failed`);
      return list.body.data.find((d: { test: boolean }) => !d.test);
    });
    const detail = await server.api('GET', `/v1/deliveries/${delivery.id}`);
    assert.ok(detail.body.attempts.every((a: { failure: string }) => a.failure === 'blocked_address'));
    assert.equal(receiver.received.length, 0);
  });
});

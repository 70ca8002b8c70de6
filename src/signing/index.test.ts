import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import { generateSecret, sign, signatureHeaders } from './index.js';

test('matches the Standard Webhooks reference vector', () => {
  const signature = sign('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
  assert.equal(signature, 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
});

test('a generated secret has the whsec_ prefix and 32 bytes of key', () => {
  const secret = generateSecret();
  assert.match(secret, /^whsec_[A-Za-z0-9+/]+=*$/);
  assert.equal(Buffer.from(secret.slice(6), 'base64').length, 32);
});

test('headers signed with two secrets verify with either one', () => {
  const [oldSecret, newSecret] = [generateSecret(), generateSecret()];
  const body = '{"event":"post_published"}';
  const timestamp = Math.floor(Date.now() / 1000);
  const headers = signatureHeaders([newSecret, oldSecret], 'evt_1', timestamp, body);
  assert.equal(headers['webhook-signature'].split(' ').length, 2);
  for (const secret of [oldSecret, newSecret]) {
    assert.deepEqual(new Webhook(secret).verify(body, headers), { event: 'post_published' });
  }
  assert.throws(() => new Webhook(generateSecret()).verify(body, headers));
});

test('verify accepts what sign produced, and refuses tampering, old timestamps and other secrets', async () => {
  const { verify } = await import('./index.js');
  const secret = generateSecret();
  const now = 1_700_000_000;
  const body = '{"event":"agent_trained"}';
  const headers = signatureHeaders([secret], 'evt_9', now, body);
  assert.deepEqual(verify(secret, headers, body, now), { ok: true });
  assert.equal(verify(secret, headers, body.replace('agent', 'Agent'), now).ok, false);
  assert.equal(verify(secret, headers, body, now + 301).ok, false);
  assert.equal(verify(generateSecret(), headers, body, now).ok, false);
  assert.equal(verify(secret, { ...headers, 'webhook-id': undefined }, body, now).ok, false);
});

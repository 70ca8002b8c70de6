/**
 * One signed webhook POST, used by the ceiling loop and the BullMQ worker alike, so both sign and
 * send exactly the same way: Standard Webhooks headers, HMAC-SHA256 over "{id}.{timestamp}.{body}"
 * with the base64-decoded secret, sent with undici's keep-alive agent.
 */
import { createHmac } from 'node:crypto';
import { request, type Dispatcher } from 'undici';

export function secretKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
}

/** POST `body` to `url` signed with `key`; resolves to the HTTP status, rejects on network errors. */
export async function postSigned(url: string, key: Buffer, msgId: string, body: string, dispatcher?: Dispatcher): Promise<number> {
  const ts = Math.floor(Date.now() / 1000);
  const signature = 'v1,' + createHmac('sha256', key).update(`${msgId}.${ts}.${body}`).digest('base64');
  const res = await request(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': msgId,
      'webhook-timestamp': String(ts),
      'webhook-signature': signature,
    },
    body,
    dispatcher,
  });
  await res.body.dump();
  return res.statusCode;
}

/** Attempt n (1-based) failed: wait before the next one, exponential like both queues do. */
export function backoffMs(baseMs: number, attempt: number): number {
  return baseMs * 2 ** (attempt - 1);
}

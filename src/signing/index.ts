/**
 * Standard Webhooks signing. A delivery carries `webhook-id`, `webhook-timestamp` and
 * `webhook-signature`; the signature is `v1,` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")),
 * where the key is the base64-decoded part of the endpoint secret after `whsec_`. During a secret
 * rotation's grace period the header lists one signature per live secret, separated by spaces,
 * so a receiver holding either secret verifies. No I/O here.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const SECRET_PREFIX = 'whsec_';
const SECRET_BYTES = 32;

/** A fresh endpoint secret: `whsec_` + base64 of 32 random bytes. */
export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(SECRET_BYTES).toString('base64');
}

function secretKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  return Buffer.from(encoded, 'base64');
}

/** One `v1,…` signature of a message. `timestamp` is in unix seconds. */
export function sign(secret: string, msgId: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secretKey(secret)).update(`${msgId}.${timestamp}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** The three Standard Webhooks headers for a message signed with every secret given. */
export function signatureHeaders(
  secrets: readonly string[],
  msgId: string,
  timestamp: number,
  body: string,
): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': secrets.map((s) => sign(s, msgId, timestamp, body)).join(' '),
  };
}

/** Receivers reject messages whose timestamp is further than this from their clock (replay protection). */
export const TIMESTAMP_TOLERANCE_SECONDS = 5 * 60;

/**
 * Check Standard Webhooks headers against a secret, as a receiver does: the timestamp must be
 * within the tolerance and one of the listed `v1` signatures must match. Returns the reason when
 * it does not verify.
 */
export function verify(
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  body: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): { ok: true } | { ok: false; reason: string } {
  const [id, timestamp, signatures] = ['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((h) => {
    const value = headers[h];
    return Array.isArray(value) ? value[0] : value;
  });
  if (!id || !timestamp || !signatures) return { ok: false, reason: 'missing webhook-id, webhook-timestamp or webhook-signature' };
  const ts = Number(timestamp);
  if (!Number.isInteger(ts) || Math.abs(nowSeconds - ts) > TIMESTAMP_TOLERANCE_SECONDS) {
    return { ok: false, reason: 'timestamp outside the 5-minute tolerance' };
  }
  const expected = Buffer.from(sign(secret, id, ts, body));
  const match = signatures
    .split(' ')
    .some((candidate) => candidate.length === expected.length && timingSafeEqual(Buffer.from(candidate), expected));
  return match ? { ok: true } : { ok: false, reason: 'no signature matches this secret' };
}

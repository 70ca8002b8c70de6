/**
 * Building the signed request of an attempt and the log record of what came of it. Shared by the
 * worker (real deliveries) and the simulator (test sends), so both are signed and logged alike.
 */
import type { AttemptRequest, AttemptResult } from '../domain/attempt.js';
import { newId } from '../domain/ids.js';
import { signatureHeaders } from '../signing/index.js';
import type { AttemptRecord } from '../store/types.js';

export const USER_AGENT = 'SocialFlow-Webhooks/0.1';

export interface SigningTarget {
  url: string;
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: number | null;
}

/** The secrets to sign with now: the current one, plus the previous one during its grace period. */
export function liveSecrets(target: SigningTarget, now: number): string[] {
  const secrets = [target.secret];
  if (target.previousSecret && target.previousSecretExpiresAt !== null && target.previousSecretExpiresAt > now) {
    secrets.push(target.previousSecret);
  }
  return secrets;
}

/** A POST of `payload` signed for this target; `msgId` is the event id, the same on every retry. */
export function signedRequest(target: SigningTarget, msgId: string, payload: string, now: number): AttemptRequest {
  return {
    url: target.url,
    body: payload,
    headers: {
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      ...signatureHeaders(liveSecrets(target, now), msgId, Math.floor(now / 1000), payload),
    },
  };
}

export interface AttemptContext {
  deliveryId: string;
  workspaceId: string;
  endpointId: string;
  number: number;
  startedAt: number;
}

export function attemptRecord(ctx: AttemptContext, req: AttemptRequest, result: AttemptResult): AttemptRecord {
  return {
    id: newId('attempt', ctx.startedAt),
    deliveryId: ctx.deliveryId,
    workspaceId: ctx.workspaceId,
    endpointId: ctx.endpointId,
    number: ctx.number,
    startedAt: ctx.startedAt,
    durationMs: result.durationMs,
    ok: result.ok,
    failure: result.failure ?? null,
    requestUrl: req.url,
    requestHeaders: req.headers,
    responseStatus: result.statusCode ?? null,
    responseHeaders: result.responseHeaders ?? null,
    responseBody: result.responseBody ?? null,
    responseBodyTruncated: result.responseBodyTruncated ?? false,
    error: result.error ?? null,
  };
}

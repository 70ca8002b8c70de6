/**
 * The ceiling: no API, no queue, no persistence. A loop makes each event, signs it and POSTs it
 * straight to every endpoint with undici (keep-alive), at most `concurrency` POSTs in flight.
 * A failed POST is retried in memory with the same exponential backoff and attempt limit as the
 * queues use, without holding a slot while it waits. Its "publish" is the start of the fan-out.
 */
import { serveRpc } from '../lib/ipc.js';
import { benchEvent } from '../lib/event.js';
import { drive, type DriveResult } from '../lib/drive.js';
import { backoffMs, postSigned, secretKey } from '../lib/deliver.js';
import { Semaphore } from '../lib/semaphore.js';

export interface CeilingPlan {
  tag: string;
  events: number;
  rate?: number;
  endpoints: { url: string; secret: string }[];
  concurrency: number;
  maxAttempts: number;
  retryBaseMs: number;
}

let pendingRetries = 0;

async function run(plan: CeilingPlan): Promise<DriveResult> {
  const slots = new Semaphore(plan.concurrency);
  const targets = plan.endpoints.map((e) => ({ url: e.url, key: secretKey(e.secret) }));

  const attempt = async (t: { url: string; key: Buffer }, id: string, body: string, n: number): Promise<void> => {
    await slots.acquire();
    let ok = false;
    try {
      const status = await postSigned(t.url, t.key, id, body);
      ok = status >= 200 && status < 300;
    } catch {
      ok = false;
    } finally {
      slots.release();
    }
    if (!ok && n < plan.maxAttempts) {
      pendingRetries++;
      setTimeout(() => {
        void attempt(t, id, body, n + 1).finally(() => pendingRetries--);
      }, backoffMs(plan.retryBaseMs, n));
    }
  };

  return drive({ count: plan.events, concurrency: plan.concurrency, rate: plan.rate }, async (seq, sentAt) => {
    const { event, ...rest } = benchEvent(plan.tag, seq, sentAt);
    const body = JSON.stringify({ event, timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), ...rest });
    const id = `msg_${plan.tag}_${seq}`;
    await Promise.all(targets.map((t) => attempt(t, id, body, 1)));
    return true;
  });
}

serveRpc({
  run: (plan: CeilingPlan) => run(plan),
  pending: () => pendingRetries,
});
process.send?.({ event: 'ready' });

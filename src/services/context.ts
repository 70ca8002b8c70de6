/**
 * What the use cases need from the outside world, wired once in main.ts and passed to every
 * service function. Both the HTTP API and the CLI call the services; neither talks to the store
 * for anything a service does.
 */
import type { Config } from '../config.js';
import type { RetryPolicy } from '../domain/retry.js';
import type { SendAttempt } from '../delivery/http-client.js';
import type { Store } from '../store/types.js';
import type { DeliveryHandoff } from './events.js';

export interface ServiceContext {
  store: Store;
  config: Config;
  policy: RetryPolicy;
  /** Sends simulator requests; real deliveries go through the worker. */
  send: SendAttempt;
  /** Refuses endpoint URLs that may never be delivered to (literal private addresses and the like). */
  checkUrl: (url: URL) => void;
  now: () => number;
  /** The delivery worker of this node, when it runs one: fresh deliveries may go straight to it. */
  handoff?: DeliveryHandoff;
}

export function retryPolicyOf(config: Config): RetryPolicy {
  return {
    maxAttempts: config.maxAttempts,
    baseDelayMs: config.retryBaseMs,
    maxDelayMs: config.retryMaxDelayMs,
    maxRetryAfterMs: config.maxRetryAfterMs,
  };
}

/**
 * The delivery worker: claims due deliveries from the queue, runs up to `concurrency` attempts at
 * once, and records their outcomes in batches. It holds no state that matters across a crash:
 * a claim is a lease in the store, so whatever a killed worker had in flight is claimed again by
 * a live one once the lease runs out (at-least-once delivery).
 *
 * It sleeps until the store announces work, the next delivery is due, or the poll interval
 * passes, whichever comes first, so an idle worker costs nothing and new work starts at once.
 */
import type { Logger } from 'pino';
import { nextStep } from '../domain/delivery.js';
import type { RetryPolicy } from '../domain/retry.js';
import type { AttemptCompletion, ClaimedDelivery, DeliveryQueue } from '../store/types.js';
import type { SendAttempt } from './http-client.js';
import { attemptRecord, signedRequest } from './request.js';

export interface WorkerOptions {
  workerId: string;
  queue: DeliveryQueue;
  send: SendAttempt;
  policy: RetryPolicy;
  concurrency: number;
  leaseMs: number;
  pollIntervalMs: number;
  logger: Logger;
  now?: () => number;
}

export class DeliveryWorker {
  private readonly o: WorkerOptions;
  private readonly now: () => number;
  private running = false;
  private inFlight = 0;
  private pending: AttemptCompletion[] = [];
  private flushing: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private wakeRequested = false;
  private loop: Promise<void> | undefined;
  private readonly idle = new Set<() => void>();

  constructor(options: WorkerOptions) {
    this.o = options;
    this.now = options.now ?? Date.now;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** New work may be due: stop sleeping. */
  wake(): void {
    this.wakeRequested = true;
    this.wakeUp?.();
  }

  /**
   * Stop claiming, then wait up to `graceMs` for attempts in flight to finish and be recorded.
   * Whatever is still unfinished keeps its lease and is retried by the next worker.
   */
  async stop(graceMs: number): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
    const drained = new Promise<void>((resolve) => {
      if (this.inFlight === 0) return resolve();
      this.idle.add(resolve);
    });
    await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      this.wakeRequested = false;
      const free = this.o.concurrency - this.inFlight;
      let claimed: ClaimedDelivery[] = [];
      if (free > 0) {
        try {
          claimed = await this.o.queue.claimDue(this.o.workerId, this.now(), free, this.o.leaseMs);
          failures = 0;
        } catch (err) {
          failures++;
          this.o.logger.error({ err }, 'claiming due deliveries failed; backing off');
          await this.sleep(Math.min(this.o.pollIntervalMs * 2 ** failures, 30_000));
          continue;
        }
        for (const delivery of claimed) this.attempt(delivery);
      }
      // A full batch means more may be waiting: go round again without sleeping.
      if (free > 0 && claimed.length === free) continue;
      if (this.wakeRequested || !this.running) continue;
      await this.sleep(await this.untilNextDue(free > 0));
    }
  }

  private async untilNextDue(haveRoom: boolean): Promise<number> {
    if (!haveRoom) return this.o.pollIntervalMs;
    try {
      const due = await this.o.queue.nextDueAt();
      if (due === undefined) return this.o.pollIntervalMs;
      return Math.max(0, Math.min(due - this.now(), this.o.pollIntervalMs));
    } catch {
      return this.o.pollIntervalMs;
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.wakeRequested) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.wakeUp = undefined;
        resolve();
      }
      this.wakeUp = done;
    });
  }

  private attempt(d: ClaimedDelivery): void {
    this.inFlight++;
    const startedAt = this.now();
    const req = signedRequest(d, d.eventId, d.payload, startedAt);
    void this.o.send(req).then((result) => {
      const attempt = attemptRecord(
        { deliveryId: d.deliveryId, workspaceId: d.workspaceId, endpointId: d.endpointId, number: d.attemptNumber, startedAt },
        req,
        result,
      );
      const next = nextStep(result, d.attemptNumber, d.maxAttempts, this.o.policy, this.now());
      this.pending.push({ attempt, next });
      this.scheduleFlush();
    });
  }

  /** Outcomes that finish close together are written in one transaction. */
  private scheduleFlush(): void {
    if (this.flushing) return;
    this.flushing = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flush());
  }

  private async flush(): Promise<void> {
    let failures = 0;
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      try {
        await this.o.queue.completeAttempts(this.o.workerId, batch, this.now());
        failures = 0;
        this.inFlight -= batch.length;
        if (this.inFlight === 0) for (const resolve of this.idle) resolve();
        this.wake();
      } catch (err) {
        // The store is unreachable: keep the outcomes (bounded by concurrency) and try again.
        this.pending = batch.concat(this.pending);
        failures++;
        this.o.logger.error({ err, outcomes: batch.length }, 'recording attempt outcomes failed; will retry');
        await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** failures, 10_000)));
      }
    }
    this.flushing = undefined;
  }
}

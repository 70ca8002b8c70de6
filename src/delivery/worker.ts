/**
 * The delivery worker: claims due deliveries from the queue, runs up to `concurrency` attempts at
 * once, and records their outcomes in batches. It holds no state that matters across a crash:
 * a claim is a lease in the store, so whatever a killed worker had in flight is claimed again by
 * a live one once the lease runs out (at-least-once delivery).
 *
 * It sleeps until the store announces work, the next delivery is due, or the poll interval
 * passes, whichever comes first, so an idle worker costs nothing and new work starts at once.
 *
 * Fairness: no endpoint gets more than its concurrency cap of this worker's slots, and a
 * rate-limited endpoint's attempts are spaced at its rate, so one huge or slow endpoint cannot
 * starve the others. Both limits are per worker node.
 *
 * Hand-off: a publish on the same node may give its fresh deliveries straight to this worker
 * (`reserve`), written to the store already leased, so they start without a claim. The worker
 * takes them only while the queue holds nothing older that is waiting for a slot: a hand-off
 * never overtakes queued work, and whatever it declines goes through the queue as usual.
 */
import type { Logger } from 'pino';
import { nextStep } from '../domain/delivery.js';
import type { RetryPolicy } from '../domain/retry.js';
import type { DeliveryHandoff, HandoffReservation, HandoffTarget } from '../services/events.js';
import type { AttemptCompletion, AutoDisablePolicy, ClaimedDelivery, ClaimRoom, DeliveryQueue } from '../store/types.js';
import type { SendAttempt } from './http-client.js';
import { attemptRecord, signedRequest } from './request.js';

/** A rate-limited endpoint's attempts are scheduled at most this far ahead of their start. */
const RATE_SCHEDULE_AHEAD_MS = 1000;

/**
 * A claim is made once this share of the slots is free, or this long after the last claim,
 * whichever comes first. Each claim is a store transaction, so under load a few larger claims
 * cost much less than one per finished attempt; the wait bounds what it adds to latency.
 */
const REFILL_SHARE = 1 / 4;
const TOP_UP_WAIT_MS = 5;

export interface WorkerOptions {
  workerId: string;
  queue: DeliveryQueue;
  send: SendAttempt;
  policy: RetryPolicy;
  concurrency: number;
  /** Attempts in flight per endpoint, unless the endpoint sets its own cap. */
  perEndpointConcurrency: number;
  autoDisable: AutoDisablePolicy;
  leaseMs: number;
  pollIntervalMs: number;
  logger: Logger;
  now?: () => number;
}

export class DeliveryWorker implements DeliveryHandoff {
  private readonly o: WorkerOptions;
  private readonly now: () => number;
  private running = false;
  private inFlight = 0;
  private pending: AttemptCompletion[] = [];
  private flushing: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private wakeRequested = false;
  private lastClaimAt = 0;
  /** The last claim filled every free slot (or a hand-off was declined since), so work may be waiting. */
  private mayHaveMore = false;
  /**
   * Endpoints that may have due deliveries in the queue which the last claim could not take
   * (their cap was reached). While there are any, hand-offs wait (so no fresh publish takes a
   * slot that queued work needs) and these endpoints' finished attempts wake the claim loop.
   */
  private readonly waiting = new Set<string>();
  /** A claim is between reading the free room and starting what it got. */
  private claiming = false;
  private declinedDuringClaim = false;
  private readonly refillBatch: number;
  private loop: Promise<void> | undefined;
  private readonly idle = new Set<() => void>();
  /** Endpoint → attempts claimed and not yet recorded, and the limits it came with. */
  private readonly busy = new Map<string, { inFlight: number; maxConcurrency: number | null }>();
  /** Rate-limited endpoint → when its next attempt may start. */
  private readonly nextSlot = new Map<string, number>();

  constructor(options: WorkerOptions) {
    this.o = options;
    this.now = options.now ?? Date.now;
    this.refillBatch = Math.max(1, Math.floor(options.concurrency * REFILL_SHARE));
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
      if (free > 0 && (free >= this.refillBatch || this.now() - this.lastClaimAt >= TOP_UP_WAIT_MS)) {
        let claimed: ClaimedDelivery[];
        const room = this.claimRoom();
        // The room was measured before the store's round trip: no hand-off may take slots meanwhile.
        this.claiming = true;
        this.declinedDuringClaim = false;
        try {
          this.lastClaimAt = this.now();
          claimed = await this.o.queue.claimDue(this.o.workerId, this.lastClaimAt, free, this.o.leaseMs, room);
          failures = 0;
        } catch (err) {
          failures++;
          this.o.logger.error({ err }, 'claiming due deliveries failed; backing off');
          await this.sleep(Math.min(this.o.pollIntervalMs * 2 ** failures, 30_000));
          continue;
        } finally {
          this.claiming = false;
        }
        for (const delivery of claimed) this.attempt(delivery);
        this.noteClaimed(claimed, free, room);
        // A full claim means more may be waiting: look again at once.
        if (claimed.length === free) continue;
      } else if (free > 0) {
        // Only a few slots are free and attempts are finishing: wait a moment so that one claim
        // fills several slots instead of one claim per finished attempt.
        await this.sleep(this.lastClaimAt + TOP_UP_WAIT_MS - this.now());
        continue;
      }
      if (this.wakeRequested || !this.running) continue;
      await this.sleep(await this.untilNextDue(free > 0));
    }
  }

  /**
   * How long to sleep: until the next retry comes due, a rate-limited endpoint can take more, or
   * the poll interval passes (which also finds leases that expired), whichever is first. New
   * publishes and finished attempts wake the loop earlier.
   */
  private async untilNextDue(haveRoom: boolean): Promise<number> {
    if (!haveRoom) return this.o.pollIntervalMs;
    const now = this.now();
    const waits = [this.o.pollIntervalMs];
    try {
      const due = await this.o.queue.nextDueAt(now);
      if (due !== undefined) waits.push(due - now);
    } catch {
      // The store is unreachable; the next claim will say so and back off.
    }
    for (const at of this.nextSlot.values()) {
      if (at > now + RATE_SCHEDULE_AHEAD_MS) waits.push(at - RATE_SCHEDULE_AHEAD_MS - now);
    }
    return Math.max(0, Math.min(...waits));
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

  private atCap(endpointId: string): boolean {
    const busy = this.busy.get(endpointId);
    return busy !== undefined && busy.inFlight >= (busy.maxConcurrency ?? this.o.perEndpointConcurrency);
  }

  /** What a claim says about work left in the queue, for hand-offs not to overtake it. */
  private noteClaimed(claimed: ClaimedDelivery[], free: number, room: ClaimRoom): void {
    const full = claimed.length === free;
    this.mayHaveMore = full || this.declinedDuringClaim;
    // Unless every slot was filled, an endpoint that had room and is not at its cap now has
    // nothing left that is due.
    if (!full) {
      for (const endpointId of this.waiting) {
        if (room.room[endpointId] !== 0 && !this.atCap(endpointId)) this.waiting.delete(endpointId);
      }
    }
    for (const d of claimed) if (this.atCap(d.endpointId)) this.waiting.add(d.endpointId);
    // An endpoint the claim had no room for may have due work (a retry, say) it could not see.
    for (const [endpointId, n] of Object.entries(room.room)) if (n === 0 && this.atCap(endpointId)) this.waiting.add(endpointId);
  }

  /** What each endpoint may still take from the next claim. */
  private claimRoom(): ClaimRoom {
    const now = this.now();
    const room: Record<string, number> = {};
    for (const [endpointId, { inFlight, maxConcurrency }] of this.busy) {
      room[endpointId] = Math.max(0, (maxConcurrency ?? this.o.perEndpointConcurrency) - inFlight);
    }
    for (const [endpointId, at] of this.nextSlot) {
      if (at <= now) this.nextSlot.delete(endpointId);
      else if (at > now + RATE_SCHEDULE_AHEAD_MS) room[endpointId] = 0;
    }
    return { defaultPerEndpoint: this.o.perEndpointConcurrency, room };
  }

  /**
   * Slots for fresh deliveries of a publish on this node, taken now and leased in the publish's
   * own transaction; undefined when none is taken. Declined only when slots, an endpoint's cap or
   * its rate limit say so, when queued work may be waiting (which a hand-off must not overtake),
   * or while a claim sized by the free slots is on its way to the store.
   */
  reserve(targets: readonly HandoffTarget[], now: number): HandoffReservation | undefined {
    if (!this.running) return undefined;
    // What is declined goes to the queue; until a claim drains it, later publishes queue behind it.
    if (this.claiming) {
      this.declinedDuringClaim = true;
      return undefined;
    }
    if (this.mayHaveMore || this.waiting.size > 0) return undefined;
    const taken = targets.map((t) => {
      // A rate-limited endpoint's attempts are spaced by the claim loop.
      if (t.rateLimit !== null) return false;
      if (this.inFlight >= this.o.concurrency) {
        this.mayHaveMore = true;
        return false;
      }
      const busy = this.busy.get(t.endpointId);
      if (busy && busy.inFlight >= (t.maxConcurrency ?? this.o.perEndpointConcurrency)) {
        this.waiting.add(t.endpointId);
        return false;
      }
      this.takeSlot(t.endpointId, t.maxConcurrency);
      return true;
    });
    if (!taken.includes(true)) return undefined;
    let settled = false;
    return {
      owner: this.o.workerId,
      leaseUntil: now + this.o.leaseMs,
      taken,
      start: (claimed) => {
        if (settled) return;
        settled = true;
        // A publish has one delivery per endpoint; a target not started here was not written.
        const started = new Set(claimed.map((d) => d.endpointId));
        targets.forEach((t, i) => taken[i] && !started.has(t.endpointId) && this.freeSlot(t.endpointId));
        for (const d of claimed) this.launch(d);
      },
      cancel: () => {
        if (settled) return;
        settled = true;
        const freed = targets.filter((_, i) => taken[i]).map((t) => t.endpointId);
        for (const endpointId of freed) this.freeSlot(endpointId);
        if (this.running && (this.mayHaveMore || freed.some((id) => this.waiting.has(id)))) this.wake();
      },
    };
  }

  private takeSlot(endpointId: string, maxConcurrency: number | null): void {
    this.inFlight++;
    const busy = this.busy.get(endpointId);
    if (busy) busy.inFlight++;
    else this.busy.set(endpointId, { inFlight: 1, maxConcurrency });
  }

  private freeSlot(endpointId: string): void {
    this.inFlight--;
    const busy = this.busy.get(endpointId);
    if (busy && --busy.inFlight === 0) this.busy.delete(endpointId);
    if (this.inFlight === 0) for (const resolve of this.idle) resolve();
  }

  private attempt(d: ClaimedDelivery): void {
    this.takeSlot(d.endpointId, d.maxConcurrency);
    this.launch(d);
  }

  /** Starts the attempt of a delivery whose slot is taken, spaced at its endpoint's rate limit. */
  private launch(d: ClaimedDelivery): void {
    const now = this.now();
    let startAt = now;
    if (d.rateLimit) {
      startAt = Math.max(now, this.nextSlot.get(d.endpointId) ?? now);
      this.nextSlot.set(d.endpointId, startAt + 1000 / d.rateLimit);
    }
    if (startAt > now) setTimeout(() => this.send(d), startAt - now);
    else this.send(d);
  }

  private send(d: ClaimedDelivery): void {
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
        await this.o.queue.completeAttempts(this.o.workerId, batch, this.now(), this.o.autoDisable);
        failures = 0;
        for (const { attempt } of batch) this.freeSlot(attempt.endpointId);
        // Freed slots matter only if the last claim left work behind; a retry changes when the
        // next delivery is due. Otherwise new work announces itself and the worker sleeps on.
        if (this.mayHaveMore || batch.some(({ attempt, next }) => next.status === 'pending' || this.waiting.has(attempt.endpointId))) {
          this.wake();
        }
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

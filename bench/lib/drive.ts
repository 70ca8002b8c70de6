/**
 * The publisher loop shared by every system: calls `task(seq, sentAt)` for seq = 0..count-1 with at
 * most `concurrency` calls in flight, either as fast as that allows or, with `rate`, at a fixed
 * schedule (event i is due at start + i/rate). When the bound holds an event back past its due
 * time, the delay is recorded as lag; `sentAt` is always the moment the call really started.
 */
import { now } from './event.js';

export interface DrivePlan {
  count: number;
  concurrency: number;
  /** Events per second; omitted means as fast as possible. */
  rate?: number;
}

export interface DriveResult {
  /** 1 at index seq when that publish was accepted. */
  accepted: Uint8Array;
  acceptedCount: number;
  rejected: number;
  firstError: string | null;
  startedAt: number;
  /** When the last publish call returned. */
  endedAt: number;
  maxLagMs: number;
}

export async function drive(plan: DrivePlan, task: (seq: number, sentAt: number) => Promise<boolean>): Promise<DriveResult> {
  const accepted = new Uint8Array(plan.count);
  let acceptedCount = 0;
  let rejected = 0;
  let firstError: string | null = null;
  let maxLagMs = 0;
  let inFlight = 0;
  let endedAt = 0;
  let wake: (() => void) | null = null;
  const startedAt = now();

  const run = (seq: number, sentAt: number) => {
    inFlight++;
    task(seq, sentAt).then(
      (ok) => {
        if (ok) {
          accepted[seq] = 1;
          acceptedCount++;
        } else rejected++;
      },
      (err: unknown) => {
        rejected++;
        firstError ??= String((err as Error)?.message ?? err);
      },
    ).finally(() => {
      inFlight--;
      endedAt = now();
      const w = wake;
      wake = null;
      w?.();
    });
  };

  for (let seq = 0; seq < plan.count; seq++) {
    if (plan.rate) {
      const due = startedAt + (seq * 1000) / plan.rate;
      const wait = due - now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    }
    while (inFlight >= plan.concurrency) await new Promise<void>((r) => (wake = r));
    const sentAt = now();
    if (plan.rate) maxLagMs = Math.max(maxLagMs, sentAt - (startedAt + (seq * 1000) / plan.rate));
    run(seq, sentAt);
  }
  while (inFlight > 0) await new Promise<void>((r) => (wake = r));
  return { accepted, acceptedCount, rejected, firstError, startedAt, endedAt: endedAt || now(), maxLagMs };
}

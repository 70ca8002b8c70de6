/**
 * The event every system carries, and the clock used to time it. `post_id` is the sequence number
 * of the event within its run, so receivers can match arrivals to publishes; `sent_at` is the
 * moment the publish call started.
 *
 * The clock is CLOCK_MONOTONIC (process.hrtime), in milliseconds with sub-millisecond precision.
 * It is one clock for every process on the machine and never jumps. The wall clock
 * (Date.now(), or performance.timeOrigin which is sampled from it when a process starts) can be
 * stepped while the harness runs: a virtual machine's clock is corrected after a pause, and
 * processes started before and after such a step then disagree by the size of the step.
 */
export const now = (): number => Number(process.hrtime.bigint()) / 1e6;

const PREVIEW = 'Five scheduling tricks our agents learned this week, and the one that doubled replies';

export interface BenchEvent {
  event: 'post_published';
  agent_id: string;
  platform: string;
  post_id: string;
  content_preview: string;
  sent_at: number;
}

export function benchEvent(tag: string, seq: number, sentAt: number): BenchEvent {
  return {
    event: 'post_published',
    agent_id: tag,
    platform: 'X',
    post_id: String(seq),
    content_preview: PREVIEW,
    sent_at: Math.round(sentAt * 1000) / 1000,
  };
}

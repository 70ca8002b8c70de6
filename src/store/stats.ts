/** Bucketing attempt outcomes for charts; shared by every backend so they agree to the number. */
import type { DeliveryStatsBucket } from './types.js';

export interface AttemptPoint {
  startedAt: number;
  durationMs: number;
  ok: boolean;
}

/** One bucket per `bucketMs` from `since` to `now`, oldest first, empty buckets included. */
export function bucketAttempts(points: AttemptPoint[], since: number, now: number, bucketMs: number): DeliveryStatsBucket[] {
  const start = Math.floor(since / bucketMs) * bucketMs;
  const count = Math.max(1, Math.ceil((now - start + 1) / bucketMs));
  const durations: number[][] = Array.from({ length: count }, () => []);
  const buckets: DeliveryStatsBucket[] = Array.from({ length: count }, (_, i) => ({
    start: start + i * bucketMs,
    succeeded: 0,
    failed: 0,
    avgLatencyMs: null,
    p95LatencyMs: null,
  }));
  for (const p of points) {
    const i = Math.floor((p.startedAt - start) / bucketMs);
    const bucket = buckets[i];
    if (!bucket) continue;
    if (p.ok) bucket.succeeded++;
    else bucket.failed++;
    durations[i]!.push(p.durationMs);
  }
  buckets.forEach((bucket, i) => {
    const d = durations[i]!.sort((a, b) => a - b);
    if (d.length === 0) return;
    bucket.avgLatencyMs = Math.round(d.reduce((a, b) => a + b, 0) / d.length);
    bucket.p95LatencyMs = d[Math.min(d.length - 1, Math.ceil(d.length * 0.95) - 1)]!;
  });
  return buckets;
}

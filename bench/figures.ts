/** Turning one run's raw measurements into its figures, and many runs into medians. */
import type { DriveResult } from './lib/drive.js';
import type { ReceiverData } from './children/receiver.js';
import type { Workload } from './workloads.js';

export interface Latency {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface RunRecord {
  system: string;
  workload: string;
  repeat: number;
  status: 'ok' | 'failed' | 'incomplete';
  error?: string;
  events: number;
  endpoints: number;
  accepted: number;
  rejected: number;
  firstRejection?: string;
  /** Accepted publishes per second (null when the system has no publish step). */
  publishRate: number | null;
  /** Receiver-verified deliveries per second, first publish to last arrival. */
  deliveryRate: number | null;
  expected: number;
  delivered: number;
  lost: number;
  duplicates: number;
  invalid: number;
  stray: number;
  /** Attempts the always-failing endpoints received, and how many the retry policy implies. */
  failingAttempts: number | null;
  failingExpected: number | null;
  latencyMs: Latency | null;
  rssStartMb: number;
  rssPeakMb: number;
  storeRssPeakMb: number | null;
  cpuS: number;
  storeCpuS: number | null;
  receiverCpuS: number;
  harnessCpuS: number;
  /**
   * CPU of every process in the run (system, store, publisher, receivers) ÷ its wall time: how
   * much of the machine the run kept busy. Absent from results saved before it was measured.
   */
  coresBusy?: number | null;
  /** CPU (system process + store) per 1,000 deliveries, in milliseconds. */
  cpuMsPer1k: number | null;
  wallS: number;
  publishS: number;
  maxPublishLagMs: number | null;
  /** Backlog only: deliveries accepted and not delivered when memory was measured. */
  queued: number | null;
  /** Wall time of each phase of the run: start-up, warm-up, measured part, stop and clean-up. */
  phasesMs?: { start: number; warmup: number; measure: number; stop: number };
}

export interface Measured {
  system: string;
  publishes: boolean;
  workload: Workload;
  repeat: number;
  pub: DriveResult;
  rcv: ReceiverData;
  maxAttempts: number;
  timedOut: boolean;
  rssStartMb: number;
  rssPeakMb: number;
  storeRssPeakMb: number | null;
  cpuS: number;
  storeCpuS: number | null;
  receiverCpuS: number;
  harnessCpuS: number;
  /** When measuring stopped (all healthy deliveries arrived, or gave up). */
  endedAt: number;
}

export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

const round = (n: number, digits = 2) => (Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : n);

export function figures(m: Measured): RunRecord {
  const { workload: w, pub, rcv } = m;
  const e = w.modes.length;
  const healthy = w.modes.map((mode, i) => (mode === 'ok' ? i : -1)).filter((i) => i >= 0);
  const failing = w.modes.filter((mode) => mode === 'fail').length;
  let lost = 0;
  const lat: number[] = [];
  for (let seq = 0; seq < w.events; seq++) {
    if (!pub.accepted[seq]) continue;
    for (const i of healthy) {
      const slot = seq * e + i;
      if (rcv.counts[slot] === 0) lost++;
      else lat.push(rcv.latency[slot]!);
    }
  }
  const sorted = Float64Array.from(lat).sort();
  const expected = pub.acceptedCount * healthy.length;
  const publishS = (pub.endedAt - pub.startedAt) / 1000;
  const delivered = rcv.unique;
  const deliverySpanS = (rcv.lastArrival - pub.startedAt) / 1000;
  const backlog = w.kind === 'backlog';
  const cpuTotal = m.cpuS + (m.storeCpuS ?? 0);
  const wallS = (m.endedAt - pub.startedAt) / 1000;
  return {
    system: m.system,
    workload: w.id,
    repeat: m.repeat,
    status: m.timedOut ? 'incomplete' : 'ok',
    events: w.events,
    endpoints: e,
    accepted: pub.acceptedCount,
    rejected: pub.rejected,
    ...(pub.firstError ? { firstRejection: pub.firstError } : {}),
    publishRate: m.publishes && publishS > 0 ? round(pub.acceptedCount / publishS, 1) : null,
    deliveryRate: !backlog && delivered > 0 && deliverySpanS > 0 ? round(delivered / deliverySpanS, 1) : null,
    expected: backlog ? 0 : expected,
    delivered,
    lost: backlog ? 0 : lost,
    duplicates: rcv.duplicates,
    invalid: rcv.invalid,
    stray: rcv.stray,
    failingAttempts: failing ? rcv.failAttempts : null,
    failingExpected: failing ? pub.acceptedCount * failing * m.maxAttempts : null,
    latencyMs:
      sorted.length > 0
        ? {
            p50: round(percentile(sorted, 0.5)),
            p95: round(percentile(sorted, 0.95)),
            p99: round(percentile(sorted, 0.99)),
            max: round(sorted[sorted.length - 1]!),
          }
        : null,
    rssStartMb: round(m.rssStartMb, 1),
    rssPeakMb: round(m.rssPeakMb, 1),
    storeRssPeakMb: m.storeRssPeakMb === null ? null : round(m.storeRssPeakMb, 1),
    cpuS: round(m.cpuS),
    storeCpuS: m.storeCpuS === null ? null : round(m.storeCpuS),
    receiverCpuS: round(m.receiverCpuS),
    harnessCpuS: round(m.harnessCpuS),
    coresBusy: !backlog && wallS > 0 ? round((cpuTotal + m.receiverCpuS + m.harnessCpuS) / wallS, 2) : null,
    cpuMsPer1k: !backlog && delivered > 0 ? round((cpuTotal * 1000) / (delivered / 1000), 1) : null,
    wallS: round(wallS),
    publishS: round(publishS),
    maxPublishLagMs: w.rate ? round(pub.maxLagMs, 1) : null,
    queued: backlog ? pub.acceptedCount - delivered : null,
  };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Medians of the numeric figures of repeated runs; counts of problems are summed instead. */
export function combine(runs: RunRecord[]): RunRecord {
  const ok = runs.filter((r) => r.status !== 'failed');
  if (ok.length === 0) return runs[0]!;
  if (ok.length === 1) return ok[0]!;
  const summed = new Set(['lost', 'duplicates', 'invalid', 'stray', 'rejected']);
  const out: Record<string, unknown> = { ...ok[0]! };
  for (const key of Object.keys(ok[0]!) as (keyof RunRecord)[]) {
    const vals = ok.map((r) => r[key]);
    if (vals.every((v) => typeof v === 'number')) {
      out[key] = summed.has(key) ? (vals as number[]).reduce((a, b) => a + b, 0) : round(median(vals as number[]), 2);
    } else if (key === 'latencyMs' && vals.every((v) => v !== null)) {
      const l = vals as Latency[];
      out[key] = { p50: median(l.map((x) => x.p50)), p95: median(l.map((x) => x.p95)), p99: median(l.map((x) => x.p99)), max: median(l.map((x) => x.max)) };
    }
  }
  out.repeat = ok.length; // how many runs the medians are of
  if (ok.some((r) => r.status === 'incomplete')) out.status = 'incomplete';
  return out as unknown as RunRecord;
}

/**
 * One run: one system, one workload, a fresh instance of the system. Arms the receivers, starts
 * the system, registers the endpoints and sends a short warm-up (same endpoints, not measured,
 * waited for), so that figures describe a warm process rather than JIT compilation. Then it
 * measures from the first publish until every healthy delivery has arrived (or nothing has moved
 * for `idleTimeoutMs`): CPU of the system's process (and of its store), peak RSS sampled every
 * 100 ms together with VmHWM, and the receivers' counts.
 */
import { randomBytes } from 'node:crypto';
import { cpuSeconds, cpuSecondsOf, hwmMb, rssMb, RssSampler, sleep } from './lib/proc.js';
import { now } from './lib/event.js';
import { figures, type RunRecord } from './figures.js';
import type { Receivers } from './receivers.js';
import type { Instance, StartOptions, System } from './systems/types.js';
import type { Workload } from './workloads.js';

export interface MeasureOptions extends StartOptions {
  publishConcurrency: number;
  /** Events sent and delivered before measuring (not for the backlog workload). */
  warmup: number;
  /** Give up when no delivery has arrived for this long. */
  idleTimeoutMs: number;
  /** After the healthy deliveries, how long to wait for the failing endpoint's retries. */
  retryGraceMs: number;
}

/** However slowly deliveries trickle in, a run stops waiting after this long. */
const MAX_WAIT_MS = 30 * 60_000;

let counter = 0;
const newTag = (kind: string) => `bench-${kind}-${++counter}-${randomBytes(3).toString('hex')}`;

/**
 * Poll the receivers until `expected` healthy deliveries and `failExpected` failing attempts have
 * arrived. `onHealthyDone` runs once, the moment the healthy ones are all in.
 */
async function awaitArrivals(
  receivers: Receivers,
  expected: number,
  failExpected: number,
  opts: MeasureOptions,
  onHealthyDone: () => void,
): Promise<{ timedOut: boolean }> {
  let progress = -1;
  const startedAt = now();
  let movedAt = startedAt;
  let healthyDoneAt = 0;
  for (;;) {
    const s = await receivers.status();
    const t = now();
    if (!healthyDoneAt && s.unique >= expected) {
      healthyDoneAt = t;
      onHealthyDone();
    }
    if (healthyDoneAt && (s.failAttempts >= failExpected || t - healthyDoneAt > opts.retryGraceMs)) return { timedOut: false };
    if (s.unique + s.failAttempts !== progress) {
      progress = s.unique + s.failAttempts;
      movedAt = t;
    } else if (t - movedAt > opts.idleTimeoutMs) {
      return { timedOut: !healthyDoneAt };
    }
    if (t - startedAt > MAX_WAIT_MS) return { timedOut: !healthyDoneAt };
    await sleep(healthyDoneAt ? 50 : 20);
  }
}

async function warmUp(inst: Instance, w: Workload, receivers: Receivers, opts: MeasureOptions): Promise<void> {
  const tag = newTag('warm');
  await receivers.reset(tag, opts.warmup);
  const pub = await inst.run({ tag, events: opts.warmup, publishConcurrency: opts.publishConcurrency });
  const healthy = w.modes.filter((m) => m === 'ok').length;
  const failing = w.modes.filter((m) => m === 'fail').length;
  await awaitArrivals(receivers, pub.acceptedCount * healthy, pub.acceptedCount * failing * opts.maxAttempts, opts, () => {});
}

export async function measureRun(system: System, w: Workload, receivers: Receivers, opts: MeasureOptions, repeat: number): Promise<RunRecord> {
  const phases = { start: 0, warmup: 0, measure: 0, stop: 0 };
  const record = await measureInner(system, w, receivers, opts, repeat, phases);
  record.phasesMs = { start: Math.round(phases.start), warmup: Math.round(phases.warmup), measure: Math.round(phases.measure), stop: Math.round(phases.stop) };
  return record;
}

async function measureInner(
  system: System,
  w: Workload,
  receivers: Receivers,
  opts: MeasureOptions,
  repeat: number,
  phases: { start: number; warmup: number; measure: number; stop: number },
): Promise<RunRecord> {
  const t0 = now();
  const urls = await receivers.arm({ tag: newTag('arm'), events: 0, modes: w.modes });
  const inst = await system.start(opts);
  phases.start = now() - t0;
  let t = now();
  try {
    const secrets = await inst.register(urls);
    await receivers.setSecrets(secrets);
    if (w.kind !== 'backlog' && opts.warmup > 0) {
      await warmUp(inst, w, receivers, opts);
      // Only with data to go on: statistics of empty tables are worse than none (the planner
      // would scan them in full once they have grown).
      await inst.settle?.();
    }
    phases.warmup = now() - t;
    t = now();
    const tag = newTag('run');
    await receivers.reset(tag, w.events);

    const storeRss = inst.store?.rssPids ?? [];
    const sampler = new RssSampler([inst.pid, ...storeRss]).start();
    const rssStart = rssMb(inst.pid);
    const cpu0 = cpuSeconds(inst.pid);
    const store0 = inst.store ? cpuSecondsOf(inst.store.cpuPids) : 0;
    const rcv0 = cpuSeconds(receivers.pid);
    const harness0 = process.cpuUsage();
    const take = () => ({
      at: now(),
      cpu: cpuSeconds(inst.pid),
      store: inst.store ? cpuSecondsOf(inst.store.cpuPids) : 0,
      rcv: cpuSeconds(receivers.pid),
      harness: process.cpuUsage(harness0),
    });

    const pub = await inst.run({ tag, events: w.events, rate: w.rate, publishConcurrency: opts.publishConcurrency });

    let snap: ReturnType<typeof take> | null = null;
    let timedOut = false;
    if (w.kind === 'backlog') {
      await sleep(w.holdMs ?? 1000);
      snap = take();
    } else {
      const healthy = w.modes.filter((m) => m === 'ok').length;
      const failing = w.modes.filter((m) => m === 'fail').length;
      ({ timedOut } = await awaitArrivals(receivers, pub.acceptedCount * healthy, pub.acceptedCount * failing * opts.maxAttempts, opts, () => {
        snap = take();
      }));
      snap ??= take();
    }
    sampler.stop();
    phases.measure = now() - t;
    const end = snap as ReturnType<typeof take>;
    const rcv = await receivers.collect();
    const peakOwn = Math.max(sampler.peak.get(inst.pid) ?? 0, hwmMb(inst.pid) || 0);
    const storePeak = storeRss.length ? storeRss.reduce((sum, pid) => sum + (sampler.peak.get(pid) ?? 0), 0) : null;
    return figures({
      system: system.id,
      publishes: system.publishes,
      workload: w,
      repeat,
      pub,
      rcv,
      maxAttempts: opts.maxAttempts,
      timedOut,
      rssStartMb: rssStart,
      rssPeakMb: peakOwn,
      storeRssPeakMb: storePeak,
      cpuS: end.cpu - cpu0,
      storeCpuS: inst.store ? end.store - store0 : null,
      receiverCpuS: end.rcv - rcv0,
      harnessCpuS: (end.harness.user + end.harness.system) / 1e6,
      endedAt: w.kind === 'backlog' ? pub.endedAt : rcv.lastArrival || end.at,
    });
  } finally {
    t = now();
    await receivers.disarm();
    await inst.stop();
    phases.stop = now() - t;
  }
}

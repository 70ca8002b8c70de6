/**
 * `npm run bench`: starts the receivers and, one after the other, each system under test on
 * 127.0.0.1, runs every workload against each (a fresh instance per run), prints the tables and
 * writes bench/results/. See docs/performance.md and `npm run bench -- --help`.
 *
 * Exit status: 0 when every run completed with nothing lost and every signature verified;
 * 1 otherwise (or when the SQLite service exists but cannot start); 2 for a bad flag.
 * No timing is asserted.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { HELP, parseOptions, type Options } from './options.js';
import { buildWorkloads, type Workload } from './workloads.js';
import { Receivers } from './receivers.js';
import { measureRun, type MeasureOptions } from './measure.js';
import { combine, type RunRecord } from './figures.js';
import { evaluateTargets, machineInfo, renderText, writeResults, type Results, type SystemInfo } from './report.js';
import { storeVersions } from './versions.js';
import { writeChart } from './chart.js';
import { updateDocs } from './docs.js';
import { isInterrupted, REPO_ROOT, useCompiledChildren } from './lib/proc.js';
import { compileBench, snapshotDist } from './lib/compile.js';
import { ceiling } from './systems/ceiling.js';
import { bullmq } from './systems/bullmq.js';
import { serviceSystem } from './systems/service.js';
import type { System } from './systems/types.js';

const RESULTS_DIR = path.join(REPO_ROOT, 'bench', 'results');

function systemsFor(o: Options, entry?: string): System[] {
  const all: Record<string, System> = {
    ceiling,
    bullmq,
    service: serviceSystem({ postgres: false, dist: o.dist, entry, sqliteSynchronous: o.sqliteSync }),
    'service-pg': serviceSystem({ postgres: true, dist: o.dist, entry }),
  };
  return o.systems.map((id) => all[id]!);
}

/** The commit measured, and whether the working tree had changes (read-only git commands). */
function sourceVersion(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    return dirty ? `${commit} with uncommitted changes in src/` : commit;
  } catch {
    return 'unknown';
  }
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const stamp = (d: Date) => d.toISOString().replace(/[:]/g, '-').replace(/\.\d+Z$/, 'Z');

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\nSee: npm run bench -- --help\n`);
    return 2;
  }
  if (parsed === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  const o = parsed;
  const started = new Date();
  const workloads = buildWorkloads(o.sizes, o.workloads);
  const log = (s: string) => process.stderr.write(s + '\n');
  let entry: string | undefined;
  if (o.dist) {
    if (!existsSync(path.join(REPO_ROOT, 'dist', 'src', 'main.js'))) {
      log('--dist needs a build: run npm run build first');
      return 2;
    }
    entry = await snapshotDist();
    useCompiledChildren(await compileBench());
  }
  const systems = systemsFor(o, entry);

  const infos: SystemInfo[] = [];
  const active: System[] = [];
  let failedHard = false;
  for (const s of systems) {
    const reason = await s.check();
    if (reason) {
      log(`skip ${s.label}: ${reason}`);
      infos.push({ id: s.id, label: s.label, durability: '', skipped: reason });
    } else {
      infos.push({ id: s.id, label: s.label, durability: await s.durability() });
      active.push(s);
    }
  }

  const cpuProfDir = o.cpuProf ? path.join(RESULTS_DIR, 'profiles', stamp(started)) : undefined;
  if (cpuProfDir) await mkdir(cpuProfDir, { recursive: true });
  const mopts: MeasureOptions = {
    echo: o.verbose,
    deliveryConcurrency: o.deliveryConcurrency,
    endpointConcurrency: o.endpointConcurrency,
    maxAttempts: o.maxAttempts,
    retryBaseMs: o.retryBaseMs,
    cpuProfDir,
    publishConcurrency: o.publishConcurrency,
    warmup: o.warmup,
    // Generous: on a loaded machine (CI) a slow run must not be mistaken for a lost delivery.
    idleTimeoutMs: 60_000,
    retryGraceMs: Math.max(3_000, o.retryBaseMs * 2 ** o.maxAttempts * 4),
  };

  const runs: RunRecord[] = [];
  const runOne = async (s: System, w: Workload, rep: number, receivers: Receivers) => {
    if (isInterrupted() || (w.kind === 'backlog' && !s.queues)) return;
    const info = infos.find((i) => i.id === s.id)!;
    if (info.skipped) return;
    const label = `${o.repeat > 1 ? `[${rep}/${o.repeat}] ` : ''}${w.id} ${s.label}`;
    log(`run  ${label} …`);
    try {
      const r = await measureRun(s, w, receivers, mopts, rep);
      runs.push(r);
      const p = r.phasesMs!;
      log(
        `done ${label}: ` +
          (w.kind === 'backlog'
            ? `${r.queued} queued, peak RSS ${r.rssPeakMb} MB`
            : `${r.deliveryRate ?? 0}/s delivered, p99 ${r.latencyMs?.p99 ?? '—'} ms, lost ${r.lost}, dup ${r.duplicates}`) +
          ` [start ${secs(p.start)}, warm-up ${secs(p.warmup)}, measured ${secs(p.measure)}, stop ${secs(p.stop)}]`,
      );
    } catch (err) {
      const msg = (err as Error).message;
      if (s.id === 'service-pg' && /during start-up|did not answer/.test(msg)) {
        info.skipped = `the service did not start with DATABASE_URL (${msg.split('\n')[0]}); PostgreSQL backend not available yet`;
        log(`skip ${s.label}: ${info.skipped}\n${msg}`);
        return;
      }
      log(`FAIL ${label}: ${msg}`);
      failedHard = true;
      runs.push({ system: s.id, workload: w.id, repeat: rep, status: 'failed', error: msg.split('\n')[0] } as RunRecord);
    }
  };

  // Interleaved (a: every system, b: every system, …) so that drift hits all systems alike.
  const receivers = await Receivers.start(o.verbose);
  try {
    for (let rep = 1; rep <= o.repeat; rep++) for (const w of workloads) for (const s of active) await runOne(s, w, rep, receivers);
  } finally {
    await receivers.stop();
  }

  if (isInterrupted()) return 130; // the signal handler finishes the clean-up and exits
  const summary: RunRecord[] = [];
  for (const w of workloads) {
    for (const s of active) {
      const mine = runs.filter((r) => r.system === s.id && r.workload === w.id);
      if (mine.length) summary.push(combine(mine));
    }
  }
  const finished = new Date();
  const results: Results = {
    format: 1,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    profile: o.profile,
    command: o.command,
    settings: {
      sizes: o.sizes,
      repeat: o.repeat,
      warmup: o.warmup,
      publishConcurrency: o.publishConcurrency,
      deliveryConcurrency: o.deliveryConcurrency,
      serviceEndpointConcurrency: o.endpointConcurrency,
      retryBaseMs: o.retryBaseMs,
      maxAttempts: o.maxAttempts,
      mode: o.dist ? 'compiled: dist/src/main.js and transpiled harness children' : 'tsx: src/main.ts and bench/*.ts through the tsx loader',
      source: sourceVersion(),
    },
    machine: machineInfo(await storeVersions()),
    systems: infos,
    workloads: workloads.map((w) => ({ id: w.id, title: w.title, short: w.short, kind: w.kind })),
    runs,
    summary,
    targets: evaluateTargets(summary, o.sizes),
  };
  process.stdout.write('\n' + renderText(results) + '\n');

  if (o.save) {
    const smoke = o.profile === 'smoke';
    const written = await writeResults(results, RESULTS_DIR, smoke ? 'smoke' : stamp(started), smoke ? null : 'latest');
    written.push(await writeChart(results, path.join(RESULTS_DIR, smoke ? 'smoke.svg' : 'latest.svg')));
    if (o.updateDocs) written.push(...(await updateDocs(results)));
    log(`\nwrote ${written.map((p) => path.relative(REPO_ROOT, p)).join(', ')}`);
  }
  if (cpuProfDir) log(`CPU profiles in ${path.relative(REPO_ROOT, cpuProfDir)}`);

  const bad = runs.filter((r) => r.status !== 'ok' || r.lost > 0 || r.invalid > 0);
  for (const r of bad) log(`problem: ${r.system} ${r.workload}: ${r.status}${r.error ? ` (${r.error})` : ''}, lost ${r.lost ?? '?'}, bad signatures ${r.invalid ?? '?'}`);
  return failedHard || bad.length > 0 ? 1 : 0;
}

main().then(
  (code) => {
    if (!isInterrupted()) process.exit(code);
  },
  (err: unknown) => {
    if (isInterrupted()) return;
    process.stderr.write(`bench failed: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);

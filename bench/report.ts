/**
 * Presenting results: the machine, the per-workload tables (text for the terminal, Markdown for
 * bench/results/latest.md and docs/performance.md), the targets and where we stand, and writing
 * the JSON files.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { RunRecord } from './figures.js';

export interface SystemInfo {
  id: string;
  label: string;
  durability: string;
  skipped?: string;
}

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGb: number;
  node: string;
  os: string;
  redis?: string;
  postgres?: string;
}

export interface Target {
  id: string;
  text: string;
  status: 'met' | 'missed' | 'not measured';
  detail: string;
}

export interface Results {
  format: 1;
  startedAt: string;
  finishedAt: string;
  profile: string;
  command: string;
  settings: Record<string, unknown>;
  machine: Machine;
  systems: SystemInfo[];
  workloads: { id: string; title: string; short: string; kind: string }[];
  runs: RunRecord[];
  /** One record per system × workload: the run itself, or medians of its repeats. */
  summary: RunRecord[];
  targets: Target[];
}

export function machineInfo(extra: Partial<Machine> = {}): Machine {
  let osName = `${os.type()} ${os.release()}`;
  try {
    const rel = execFileSync('sh', ['-c', '. /etc/os-release && echo "$PRETTY_NAME"']).toString().trim();
    if (rel) osName = `${rel}, kernel ${os.release()}`;
  } catch {
    /* keep the kernel name */
  }
  return {
    cpus: os.availableParallelism?.() ?? os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    os: osName,
    ...extra,
  };
}

// ---------------------------------------------------------------- formatting

const num = (digits: number) => (v: number | null | undefined) =>
  v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const int = num(0);
const dec1 = num(1);
const dec2 = num(2);
const ms = (v: number | null | undefined) => (v === null || v === undefined ? '—' : v < 10 ? dec2(v) : dec1(v));

interface Row {
  label: string;
  value: (r: RunRecord) => number | null | undefined;
  format: (v: number | null | undefined) => string;
  /** Show service ÷ other ratios for this row. */
  ratio?: boolean;
  /** Free text instead of a number (no ratio). */
  text?: (r: RunRecord) => string;
  /** Only show the row when it applies. */
  when?: (rs: RunRecord[]) => boolean;
}

const anyValue = (f: (r: RunRecord) => unknown) => (rs: RunRecord[]) => rs.some((r) => f(r) !== null && f(r) !== undefined);

const DELIVERY_ROWS: Row[] = [
  { label: 'publish rate (events/s)', value: (r) => r.publishRate, format: int, ratio: true, when: anyValue((r) => r.publishRate) },
  { label: 'delivery rate (deliveries/s)', value: (r) => r.deliveryRate, format: int, ratio: true },
  { label: 'latency p50 (ms)', value: (r) => r.latencyMs?.p50, format: ms, ratio: true },
  { label: 'latency p95 (ms)', value: (r) => r.latencyMs?.p95, format: ms, ratio: true },
  { label: 'latency p99 (ms)', value: (r) => r.latencyMs?.p99, format: ms, ratio: true },
  { label: 'latency max (ms)', value: (r) => r.latencyMs?.max, format: ms, ratio: true },
  { label: 'peak RSS (MB)', value: (r) => r.rssPeakMb, format: int, ratio: true },
  { label: 'store peak RSS (MB)', value: (r) => r.storeRssPeakMb, format: int, when: anyValue((r) => r.storeRssPeakMb) },
  { label: 'CPU (s)', value: (r) => r.cpuS, format: dec2, ratio: true },
  { label: 'store CPU (s)', value: (r) => r.storeCpuS, format: dec2, when: anyValue((r) => r.storeCpuS) },
  { label: 'CPU ms / 1k deliveries (incl. store)', value: (r) => r.cpuMsPer1k, format: int, ratio: true },
  { label: 'publisher + receivers CPU (s)', value: (r) => r.harnessCpuS + r.receiverCpuS, format: dec2 },
  // Whether the machine itself was the limit: on 2 cores, a value near 2 means it was.
  { label: 'cores busy (all processes)', value: (r) => r.coresBusy, format: dec2, when: anyValue((r) => r.coresBusy) },
  { label: 'max publish lag (ms)', value: (r) => r.maxPublishLagMs, format: dec1, when: anyValue((r) => r.maxPublishLagMs) },
  {
    // Counted when the last healthy delivery arrives: retries still waiting then are not a loss.
    label: 'failing endpoint: attempts by the last healthy arrival / in all',
    value: () => null,
    format: int,
    text: (r) => (r.failingAttempts === null ? '—' : `${int(r.failingAttempts)} / ${int(r.failingExpected)}`),
    when: anyValue((r) => r.failingAttempts),
  },
  { label: 'rejected publishes', value: (r) => r.rejected, format: int, when: (rs) => rs.some((r) => r.rejected > 0) },
  { label: 'lost / duplicate deliveries', value: () => null, format: int, text: (r) => `${int(r.lost)} / ${int(r.duplicates)}` },
  { label: 'bad signatures', value: (r) => r.invalid, format: int, when: (rs) => rs.some((r) => r.invalid > 0) },
];

const BACKLOG_ROWS: Row[] = [
  { label: 'publish rate (events/s)', value: (r) => r.publishRate, format: int, ratio: true },
  { label: 'deliveries queued', value: (r) => r.queued, format: int },
  { label: 'RSS at start (MB)', value: (r) => r.rssStartMb, format: int, ratio: true },
  { label: 'peak RSS (MB)', value: (r) => r.rssPeakMb, format: int, ratio: true },
  { label: 'store peak RSS (MB)', value: (r) => r.storeRssPeakMb, format: int, when: anyValue((r) => r.storeRssPeakMb) },
  { label: 'CPU (s)', value: (r) => r.cpuS, format: dec2, ratio: true },
  { label: 'store CPU (s)', value: (r) => r.storeCpuS, format: dec2, when: anyValue((r) => r.storeCpuS) },
  { label: 'rejected publishes', value: (r) => r.rejected, format: int, when: (rs) => rs.some((r) => r.rejected > 0) },
];

const SHORT: Record<string, string> = { ceiling: 'ceiling', bullmq: 'BullMQ', service: 'svc', 'service-pg': 'svc-pg' };

interface Table {
  title: string;
  head: string[];
  rows: string[][];
  notes: string[];
}

function workloadTable(results: Results, workloadId: string): Table | null {
  const w = results.workloads.find((x) => x.id === workloadId)!;
  const systems = results.systems.filter((s) => !s.skipped);
  const recs = systems.map((s) => results.summary.find((r) => r.system === s.id && r.workload === workloadId));
  const present = systems.filter((_, i) => recs[i]);
  const rs = recs.filter((r): r is RunRecord => Boolean(r));
  if (rs.length === 0) return null;
  const by = (id: string) => rs.find((r) => r.system === id);
  const pairs: [string, string][] = [];
  for (const s of ['service', 'service-pg']) for (const b of ['ceiling', 'bullmq']) if (by(s) && by(b)) pairs.push([s, b]);
  const head = ['', ...present.map((s) => s.label), ...pairs.map(([s, b]) => `${SHORT[s]} ÷ ${SHORT[b]}`)];
  const rows: string[][] = [];
  let defs = w.kind === 'backlog' ? BACKLOG_ROWS : DELIVERY_ROWS;
  if (workloadId === 'c' && results.summary.some((r) => r.workload === 'b')) {
    // Starvation check: the healthy endpoints' rate with a failing neighbour, relative to b without one.
    const base = (sys: string) => results.summary.find((r) => r.system === sys && r.workload === 'b')?.deliveryRate;
    const vsB: Row = {
      label: 'delivery rate ÷ rate in b (no failing endpoint)',
      value: (r) => {
        const b = base(r.system);
        return r.deliveryRate && b ? r.deliveryRate / b : null;
      },
      format: dec2,
    };
    defs = [...defs.slice(0, 2), vsB, ...defs.slice(2)];
  }
  for (const row of defs) {
    if (row.when && !row.when(rs)) continue;
    const cells = present.map((s) => {
      const r = by(s.id)!;
      if (r.status === 'failed') return 'failed';
      return row.text ? row.text(r) : row.format(row.value(r));
    });
    const ratios = pairs.map(([s, b]) => {
      if (!row.ratio) return '';
      const a = row.value(by(s)!);
      const c = row.value(by(b)!);
      return a !== null && a !== undefined && c !== null && c !== undefined && c !== 0 && Number.isFinite(a / c) ? `${dec2(a / c)}×` : '—';
    });
    rows.push([row.label, ...cells, ...ratios]);
  }
  const notes: string[] = [];
  for (const r of rs) {
    const label = systems.find((s) => s.id === r.system)?.label ?? r.system;
    if (r.status === 'failed') notes.push(`${label}: failed — ${r.error ?? 'unknown error'}`);
    if (r.status === 'incomplete') notes.push(`${label}: gave up waiting; ${int(r.lost)} deliveries never arrived`);
    if (r.firstRejection) notes.push(`${label}: first rejected publish: ${r.firstRejection}`);
    if (r.repeat > 1) notes.push(`${label}: medians of ${r.repeat} runs`);
  }
  return { title: w.title, head, rows, notes };
}

function scalingTable(results: Results): Table | null {
  const scale = results.workloads.filter((w) => w.id.startsWith('scale-'));
  if (scale.length < 2) return null;
  const head = ['system', 'events', 'wall (s)', 'deliveries/s', 'CPU s (incl. store)', 'CPU ms / 1k deliveries', 'peak RSS (MB)'];
  const rows: string[][] = [];
  for (const s of results.systems.filter((x) => !x.skipped)) {
    for (const w of scale) {
      const r = results.summary.find((x) => x.system === s.id && x.workload === w.id);
      if (!r || r.status === 'failed') continue;
      rows.push([s.label, int(r.events), dec1(r.wallS), int(r.deliveryRate), dec2(r.cpuS + (r.storeCpuS ?? 0)), int(r.cpuMsPer1k), int(r.rssPeakMb)]);
    }
  }
  return { title: 'Scaling (workload a at several sizes)', head, rows, notes: [] };
}

// ---------------------------------------------------------------- targets

/** Workload a's size in the issue's throughput target. */
const TARGET_EVENTS = 20_000;

export function evaluateTargets(summary: RunRecord[], sizes: { rate: number }): Target[] {
  const get = (system: string, workload: string) => summary.find((r) => r.system === system && r.workload === workload && r.status !== 'failed');
  const out: Target[] = [];

  const svc = get('service', 'a');
  const ceil = get('ceiling', 'a');
  const bull = get('bullmq', 'a');
  const rateText = `End-to-end delivery rate (SQLite, workload a of ${int(TARGET_EVENTS)} events) ≥ 50% of the ceiling and ahead of BullMQ`;
  if (svc?.deliveryRate && ceil?.deliveryRate && bull?.deliveryRate) {
    const vsCeil = svc.deliveryRate / ceil.deliveryRate;
    const vsBull = svc.deliveryRate / bull.deliveryRate;
    // A short run is mostly ramp-up and tail, so its rate says nothing about the target.
    const fullSize = svc.events >= TARGET_EVENTS;
    out.push({
      id: 'throughput',
      text: rateText,
      status: !fullSize ? 'not measured' : vsCeil >= 0.5 && vsBull > 1 ? 'met' : 'missed',
      detail:
        `${int(svc.deliveryRate)}/s = ${Math.round(vsCeil * 100)}% of the ceiling (${int(ceil.deliveryRate)}/s), ${dec2(vsBull)}× BullMQ (${int(bull.deliveryRate)}/s)` +
        (fullSize ? '' : ` (only ${int(svc.events)} events)`),
    });
  } else out.push({ id: 'throughput', text: rateText, status: 'not measured', detail: 'needs workload a on ceiling, BullMQ and the service' });

  const d = get('service', 'd');
  const p99Text = 'p99 publish-to-arrival at 500 events/s < 50 ms (workload d)';
  if (d?.latencyMs) {
    const atRate = sizes.rate === 500 ? '' : ` (measured at ${sizes.rate}/s)`;
    out.push({
      id: 'latency',
      text: p99Text,
      status: sizes.rate !== 500 ? 'not measured' : d.latencyMs.p99 < 50 ? 'met' : 'missed',
      detail: `p99 ${ms(d.latencyMs.p99)} ms, p50 ${ms(d.latencyMs.p50)} ms${atRate}`,
    });
  } else out.push({ id: 'latency', text: p99Text, status: 'not measured', detail: 'needs workload d on the service' });

  const b = get('service', 'backlog');
  const rssText = 'Service RSS < 200 MB with 100,000 deliveries queued (workload e)';
  if (b && b.queued !== null) {
    const full = b.queued >= 99_000;
    out.push({
      id: 'backlog-rss',
      text: rssText,
      status: !full ? 'not measured' : b.rssPeakMb < 200 ? 'met' : 'missed',
      detail: `peak ${int(b.rssPeakMb)} MB with ${int(b.queued)} queued${full ? '' : ' (smaller than 100,000)'}`,
    });
  } else out.push({ id: 'backlog-rss', text: rssText, status: 'not measured', detail: 'needs workload backlog on the service' });

  const linText = 'Linear cost from 2k to 20k to 200k events (at each 10× step, CPU per delivery grows at most 1.5× and the rate falls at most 1.5×)';
  const points = summary
    .filter((r) => r.system === 'service' && r.workload.startsWith('scale-') && r.status !== 'failed' && r.cpuMsPer1k && r.deliveryRate)
    .sort((x, y) => x.events - y.events);
  if (points.length >= 2) {
    // Getting cheaper per delivery at a larger size (warm caches, ramp-up spread thinner) is fine:
    // only growth counts, at the worst step.
    const steps = points.slice(1).map((p, i) => ({ cpu: p.cpuMsPer1k! / points[i]!.cpuMsPer1k!, drop: points[i]!.deliveryRate! / p.deliveryRate! }));
    const cpuGrowth = Math.max(...steps.map((x) => x.cpu));
    const rateDrop = Math.max(...steps.map((x) => x.drop));
    out.push({
      id: 'linear',
      text: linText,
      status: cpuGrowth <= 1.5 && rateDrop <= 1.5 ? 'met' : 'missed',
      detail:
        points.map((p) => `${int(p.events)}: ${int(p.cpuMsPer1k)} CPU ms/1k, ${int(p.deliveryRate)}/s`).join('; ') +
        ` — worst step: CPU per delivery ×${dec2(cpuGrowth)}, rate ÷${dec2(rateDrop)}`,
    });
  } else out.push({ id: 'linear', text: linText, status: 'not measured', detail: 'run with --scaling' });
  return out;
}

// ---------------------------------------------------------------- rendering

function textTable(t: Table): string {
  const all = [t.head, ...t.rows];
  const widths = t.head.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd();
  return [t.title, line(t.head), widths.map((w) => '─'.repeat(w)).join('  '), ...t.rows.map(line), ...t.notes.map((n) => `  note: ${n}`)].join('\n');
}

function mdTable(t: Table, level = '###'): string {
  const esc = (s: string) => s.replaceAll('|', '\\|');
  const out = [`${level} ${t.title}`, '', `| ${t.head.map(esc).join(' | ')} |`, `|${t.head.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const r of t.rows) out.push(`| ${r.map(esc).join(' | ')} |`);
  if (t.notes.length) out.push('', ...t.notes.map((n) => `- ${n}`));
  return out.join('\n');
}

function tables(results: Results): Table[] {
  const out: Table[] = [];
  for (const w of results.workloads) {
    const t = workloadTable(results, w.id);
    if (t) out.push(t);
  }
  const s = scalingTable(results);
  if (s) out.push(s);
  return out;
}

const machineLine = (m: Machine) =>
  `${m.cpus} CPU cores (${m.cpuModel}), ${m.memoryGb} GB RAM, Node.js ${m.node}, ${m.os}` +
  (m.redis ? `, Redis ${m.redis}` : '') +
  (m.postgres ? `, PostgreSQL ${m.postgres}` : '');

const MARK: Record<Target['status'], string> = { met: 'met', missed: 'MISSED', 'not measured': 'not measured' };

export function renderText(results: Results): string {
  const parts = [`Machine: ${machineLine(results.machine)}`, 'Durability of an accepted event:'];
  for (const s of results.systems) parts.push(`  ${s.label}: ${s.skipped ? `skipped — ${s.skipped}` : s.durability}`);
  for (const t of tables(results)) parts.push('', textTable(t));
  parts.push('', 'Ratios are service ÷ other: above 1 is better for rates, worse for latency, memory and CPU.', '', 'Targets:');
  for (const t of results.targets) parts.push(`  [${MARK[t.status]}] ${t.text}\n      ${t.detail}`);
  return parts.join('\n');
}

export function renderMarkdown(results: Results, level = '###'): string {
  const parts = [
    `Run ${results.finishedAt.slice(0, 16).replace('T', ' ')} UTC, \`${results.command}\` (profile ${results.profile}` +
      (results.settings.source ? `, source ${String(results.settings.source)}` : '') +
      (results.settings.mode ? `, ${String(results.settings.mode).split(':')[0]} mode` : '') +
      ').',
    '',
    `Machine: ${machineLine(results.machine)}.`,
    '',
    'Durability of an accepted event, as configured for the run:',
    '',
    ...results.systems.map((s) => `- **${s.label}**: ${s.skipped ? `skipped — ${s.skipped}` : s.durability}`),
  ];
  for (const t of tables(results)) parts.push('', mdTable(t, level));
  parts.push(
    '',
    'Ratios are service ÷ other: above 1 is better for rates, worse for latency, memory and CPU. ' +
      'Latency runs from the start of the publish call to the arrival of the verified delivery.',
    '',
    `${level} Targets`,
    '',
    '| Target | Status | Measured |',
    '| --- | --- | --- |',
    ...results.targets.map((t) => `| ${t.text} | ${MARK[t.status]} | ${t.detail.replaceAll('|', '\\|')} |`),
  );
  return parts.join('\n') + '\n';
}

export async function writeResults(results: Results, dir: string, name: string, latest: string | null): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const json = JSON.stringify(results, null, 2) + '\n';
  const written = [path.join(dir, `${name}.json`)];
  await writeFile(written[0]!, json);
  if (latest) {
    written.push(path.join(dir, `${latest}.json`), path.join(dir, `${latest}.md`));
    await writeFile(written[1]!, json);
    await writeFile(written[2]!, `# Benchmark results\n\n${renderMarkdown(results, '##')}`);
  }
  return written;
}

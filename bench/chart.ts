/**
 * A plain SVG chart of a results file: delivery rate per throughput workload, latency at the fixed
 * rate, and peak memory, one bar per system. Used by the harness after each run; also runnable:
 *   npx tsx bench/chart.ts [bench/results/latest.json] [out.svg]
 */
import { readFile, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import type { Results } from './report.js';
import type { RunRecord } from './figures.js';

const COLORS: Record<string, string> = { ceiling: '#9aa5b1', bullmq: '#e07b39', service: '#2f6fd0', 'service-pg': '#7a52c7' };
const WIDTH = 880;
const PANEL_H = 230;
/** Rough width of one character of a group label (11 px system-ui), for deciding when to wrap. */
const GROUP_CHAR_PX = 6;

interface Group {
  label: string;
  values: (number | null)[];
}

const esc = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
const fmt = (v: number) => (v >= 100 ? Math.round(v).toLocaleString('en-US') : v >= 10 ? v.toFixed(1) : v.toFixed(2));

/** A group's label under its bars, on two lines (split at " · ") when one would not fit. */
function groupLabel(label: string, x: number, y: number, width: number): string {
  const cut = label.indexOf(' · ');
  const fits = label.length * GROUP_CHAR_PX <= width - 8;
  const lines = fits || cut < 0 ? [label] : [label.slice(0, cut), label.slice(cut + 3)];
  const spans = lines.map((line, i) => `<tspan x="${x.toFixed(1)}" dy="${i === 0 ? 0 : 13}">${esc(line)}</tspan>`).join('');
  return `<text x="${x.toFixed(1)}" y="${y}" class="group">${spans}</text>`;
}

function panel(top: number, title: string, groups: Group[], systems: string[]): string {
  const left = 60;
  const plotW = WIDTH - left - 20;
  const plotTop = top + 42;
  const plotH = PANEL_H - 82;
  const max = Math.max(1e-9, ...groups.flatMap((g) => g.values.filter((v): v is number => v !== null)));
  const out = [`<text x="${left}" y="${top + 16}" class="title">${esc(title)}</text>`];
  out.push(`<line x1="${left}" y1="${plotTop + plotH}" x2="${left + plotW}" y2="${plotTop + plotH}" class="axis"/>`);
  const groupW = plotW / Math.max(1, groups.length);
  const barW = Math.min(48, (groupW - 24) / Math.max(1, systems.length));
  // Narrow bars take smaller figures, so that neighbours' figures do not run together.
  const valueClass = barW < 34 ? 'value small' : 'value';
  groups.forEach((g, gi) => {
    const gx = left + gi * groupW + (groupW - barW * systems.length) / 2;
    g.values.forEach((v, si) => {
      const x = gx + si * barW;
      if (v === null) return;
      const h = (v / max) * plotH;
      out.push(`<rect x="${x.toFixed(1)}" y="${(plotTop + plotH - h).toFixed(1)}" width="${(barW - 4).toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS[systems[si]!] ?? '#888'}"/>`);
      out.push(`<text x="${(x + (barW - 4) / 2).toFixed(1)}" y="${(plotTop + plotH - h - 4).toFixed(1)}" class="${valueClass}">${fmt(v)}</text>`);
    });
    out.push(groupLabel(g.label, left + gi * groupW + groupW / 2, plotTop + plotH + 18, groupW));
  });
  return out.join('\n');
}

export function renderChart(results: Results): string {
  const systems = results.systems.filter((s) => !s.skipped && results.summary.some((r) => r.system === s.id));
  const ids = systems.map((s) => s.id);
  const rec = (sys: string, w: string): RunRecord | undefined =>
    results.summary.find((r) => r.system === sys && r.workload === w && r.status !== 'failed');
  const shortOf = (id: string) => results.workloads.find((w) => w.id === id)?.short ?? id;

  const panels: string[] = [];
  let top = 50;
  const throughput = results.workloads.filter((w) => w.kind === 'delivery' && w.id !== 'd');
  if (throughput.length) {
    const groups = throughput.map((w) => ({ label: shortOf(w.id), values: ids.map((s) => rec(s, w.id)?.deliveryRate ?? null) }));
    panels.push(panel(top, 'End-to-end delivery rate, deliveries/s (higher is better)', groups, ids));
    top += PANEL_H;
  }
  if (results.workloads.some((w) => w.id === 'd')) {
    const groups = (['p50', 'p95', 'p99'] as const).map((p) => ({ label: `${p}`, values: ids.map((s) => rec(s, 'd')?.latencyMs?.[p] ?? null) }));
    panels.push(panel(top, `Publish-to-arrival latency at a fixed rate (${shortOf('d')}), ms (lower is better)`, groups, ids));
    top += PANEL_H;
  }
  const memWorkloads = results.workloads.filter((w) => w.id === 'a' || w.kind === 'backlog');
  if (memWorkloads.length) {
    const groups = memWorkloads.map((w) => ({ label: shortOf(w.id), values: ids.map((s) => rec(s, w.id)?.rssPeakMb ?? null) }));
    panels.push(panel(top, 'Peak RSS of the system’s own process, MB (lower is better; Redis/PostgreSQL not included)', groups, ids));
    top += PANEL_H;
  }
  const legend = systems
    .map((s, i) => `<rect x="${60 + i * 200}" y="14" width="12" height="12" fill="${COLORS[s.id] ?? '#888'}"/><text x="${78 + i * 200}" y="24" class="legend">${esc(s.label)}</text>`)
    .join('\n');
  const height = top + 30;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, sans-serif">
<style>
  .title { font-size: 14px; font-weight: 600; fill: #222; }
  .value { font-size: 11px; text-anchor: middle; fill: #333; }
  .value.small { font-size: 9px; }
  .group { font-size: 11px; text-anchor: middle; fill: #444; }
  .legend { font-size: 12px; fill: #222; }
  .axis { stroke: #999; }
  .foot { font-size: 10px; fill: #777; }
</style>
<rect width="100%" height="100%" fill="#fff"/>
${legend}
${panels.join('\n')}
<text x="60" y="${height - 10}" class="foot">${esc(`${results.finishedAt.slice(0, 10)} · ${results.machine.cpus} cores · Node.js ${results.machine.node} · profile ${results.profile}`)}</text>
</svg>
`;
}

export async function writeChart(results: Results, file: string): Promise<string> {
  await writeFile(file, renderChart(results));
  return file;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const input = process.argv[2] ?? 'bench/results/latest.json';
  const output = process.argv[3] ?? input.replace(/\.json$/, '.svg');
  const results = JSON.parse(await readFile(input, 'utf8')) as Results;
  await writeChart(results, output);
  process.stdout.write(`wrote ${output}\n`);
}

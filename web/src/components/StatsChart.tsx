// Attempts per bucket (succeeded vs failed) and latency for one endpoint, drawn with uPlot.
import { useEffect, useId, useMemo, useRef, useState } from 'react';
import uPlot from 'uplot';
import { useSession } from '../context';
import { formatDuration } from '../format';
import { useLoad } from '../hooks';
import type { Stats, StatsWindow } from '../types';
import { ErrorMessage, Loading } from './ui';

const COLORS = { ok: '#1c8450', bad: '#c9372c', avg: '#2457d6', p95: '#8b5cc7', grid: '#e6e8ec', text: '#4b5563' };

const WINDOWS: { value: StatsWindow; label: string }[] = [
  { value: '24h', label: 'Last 24 hours' },
  { value: '7d', label: 'Last 7 days' },
];

export function StatsChart({ webhookId }: { webhookId: string }) {
  const { api } = useSession();
  const [win, setWin] = useState<StatsWindow>('24h');
  const stats = useLoad(() => api.stats(webhookId, win), [api, webhookId, win]);
  const groupName = useId();

  return (
    <section className="card" aria-labelledby="chart-title">
      <div className="section-head">
        <h2 id="chart-title">Delivery activity</h2>
        <div className="segmented" role="radiogroup" aria-label="Time window">
          {WINDOWS.map((w) => (
            <label key={w.value} className={win === w.value ? 'active' : ''}>
              <input type="radio" name={groupName} value={w.value} checked={win === w.value} onChange={() => setWin(w.value)} />
              {w.label}
            </label>
          ))}
        </div>
      </div>
      {stats.error && <ErrorMessage onRetry={stats.reload}>Could not load the statistics: {stats.error}</ErrorMessage>}
      {!stats.data && stats.loading && <Loading label="Loading statistics…" />}
      {stats.data && <Charts stats={stats.data} />}
    </section>
  );
}

interface Series {
  x: number[];
  succeeded: number[];
  failed: number[];
  total: number[];
  avg: (number | null)[];
  p95: (number | null)[];
}

function toSeries(stats: Stats): Series {
  const half = stats.bucket_ms / 2000;
  const s: Series = { x: [], succeeded: [], failed: [], total: [], avg: [], p95: [] };
  for (const b of stats.buckets) {
    s.x.push(Date.parse(b.start) / 1000 + half);
    s.succeeded.push(b.succeeded);
    s.failed.push(b.failed);
    s.total.push(b.succeeded + b.failed);
    s.avg.push(b.avg_latency_ms);
    s.p95.push(b.p95_latency_ms);
  }
  return s;
}

function Charts({ stats }: { stats: Stats }) {
  const series = useMemo(() => toSeries(stats), [stats]);
  const totals = useMemo(() => {
    const ok = series.succeeded.reduce((a, b) => a + b, 0);
    const bad = series.failed.reduce((a, b) => a + b, 0);
    let weighted = 0;
    let n = 0;
    stats.buckets.forEach((b) => {
      if (b.avg_latency_ms !== null) {
        weighted += b.avg_latency_ms * (b.succeeded + b.failed);
        n += b.succeeded + b.failed;
      }
    });
    return { ok, bad, avg: n > 0 ? weighted / n : null };
  }, [series, stats]);
  const unit = stats.bucket_ms >= 86_400_000 ? 'day' : stats.bucket_ms >= 3_600_000 ? `${stats.bucket_ms / 3_600_000 === 1 ? '' : `${stats.bucket_ms / 3_600_000} `}hour${stats.bucket_ms / 3_600_000 === 1 ? '' : 's'}` : `${Math.round(stats.bucket_ms / 60000)} min`;
  const windowText = stats.window === '7d' ? 'the last 7 days' : 'the last 24 hours';

  return (
    <>
      <p className="chart-summary">
        In {windowText}: <strong>{totals.ok + totals.bad}</strong> attempt{totals.ok + totals.bad === 1 ? '' : 's'},{' '}
        <span className="ok-text">{totals.ok} succeeded</span>, <span className={totals.bad ? 'bad-text' : ''}>{totals.bad} failed</span>
        {totals.avg !== null && <>; average latency {formatDuration(totals.avg)}</>}.
      </p>
      <div className="charts" aria-hidden="true">
        <h3 className="chart-title">Attempts per {unit}</h3>
        <Plot kind="attempts" series={series} bucketMs={stats.bucket_ms} />
        <h3 className="chart-title">Latency (ms)</h3>
        <Plot kind="latency" series={series} bucketMs={stats.bucket_ms} />
      </div>
      <details className="chart-table">
        <summary>Show the numbers as a table</summary>
        <div className="table-wrap">
          <table className="table compact">
            <thead>
              <tr>
                <th scope="col">From</th>
                <th scope="col">Succeeded</th>
                <th scope="col">Failed</th>
                <th scope="col">Average latency</th>
                <th scope="col">p95 latency</th>
              </tr>
            </thead>
            <tbody>
              {stats.buckets
                .filter((b) => b.succeeded + b.failed > 0)
                .map((b) => (
                  <tr key={b.start}>
                    <td>{new Date(b.start).toLocaleString()}</td>
                    <td>{b.succeeded}</td>
                    <td>{b.failed}</td>
                    <td>{formatDuration(b.avg_latency_ms)}</td>
                    <td>{formatDuration(b.p95_latency_ms)}</td>
                  </tr>
                ))}
            </tbody>
          </table>
          {totals.ok + totals.bad === 0 && <p className="muted">No attempts in this window.</p>}
        </div>
      </details>
    </>
  );
}

function Plot({ kind, series, bucketMs }: { kind: 'attempts' | 'latency'; series: Series; bucketMs: number }) {
  const ref = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const width = Math.max(260, el.clientWidth);
    const height = width < 500 ? 150 : 190;
    const rangeText = (u: uPlot, v: number | null) => {
      if (v === null || v === undefined) return '—';
      const start = new Date((v - bucketMs / 2000) * 1000);
      const end = new Date((v + bucketMs / 2000) * 1000);
      const fmt = (d: Date) => d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
      void u;
      return `${fmt(start)} – ${fmt(end).split(', ').pop()}`;
    };
    // Half a bucket of room on both sides so the first and last bars are drawn whole.
    const half = bucketMs / 2000;
    const xRange: uPlot.Range.Function = (_u, min, max) => [min - half, max + half];
    const axes: uPlot.Axis[] = [
      { stroke: COLORS.text, grid: { stroke: COLORS.grid, width: 1 }, ticks: { stroke: COLORS.grid, width: 1 } },
      {
        stroke: COLORS.text,
        grid: { stroke: COLORS.grid, width: 1 },
        ticks: { stroke: COLORS.grid, width: 1 },
        size: 48,
        values: (_u, splits) => splits.map((v) => (kind === 'latency' ? compactMs(v) : Number.isInteger(v) ? String(v) : '')),
      },
    ];
    const opts: uPlot.Options =
      kind === 'attempts'
        ? {
            width,
            height,
            cursor: { sync: { key: 'endpoint-stats' }, points: { show: false }, y: false },
            scales: { x: { time: true, range: xRange }, y: { range: (_u, _min, max) => [0, Math.max(4, Math.ceil(max * 1.1))] } },
            axes,
            series: [
              { label: 'Period', value: rangeText },
              // Drawn first: the full height (succeeded + failed) in red, so what shows above the green is the failures.
              {
                label: 'Failed',
                fill: COLORS.bad,
                stroke: COLORS.bad,
                width: 0,
                paths: uPlot.paths.bars!({ size: [0.7, 40], align: 0 }),
                points: { show: false },
                value: (_u, _v, _si, idx) => (idx === null || idx === undefined ? '—' : String(series.failed[idx] ?? 0)),
              },
              {
                label: 'Succeeded',
                fill: COLORS.ok,
                stroke: COLORS.ok,
                width: 0,
                paths: uPlot.paths.bars!({ size: [0.7, 40], align: 0 }),
                points: { show: false },
                value: (_u, v) => (v === null || v === undefined ? '—' : String(v)),
              },
            ],
          }
        : {
            width,
            height,
            cursor: { sync: { key: 'endpoint-stats' }, y: false },
            scales: { x: { time: true, range: xRange }, y: { range: (_u, _min, max) => [0, Math.max(10, max * 1.15)] } },
            axes,
            series: [
              { label: 'Period', value: rangeText },
              { label: 'Average', stroke: COLORS.avg, width: 2, points: { show: true, size: 7, fill: COLORS.avg }, value: (_u, v) => (v === null || v === undefined ? '—' : formatDuration(v)) },
              { label: 'p95', stroke: COLORS.p95, width: 2, dash: [5, 4], points: { show: true, size: 7, fill: COLORS.p95 }, value: (_u, v) => (v === null || v === undefined ? '—' : formatDuration(v)) },
            ],
          };
    const data: uPlot.AlignedData =
      kind === 'attempts' ? [series.x, series.total, series.succeeded] : [series.x, series.avg as number[], series.p95 as number[]];
    const plot = new uPlot(opts, data, el);

    const ro = new ResizeObserver(() => {
      const w = Math.max(260, el.clientWidth);
      if (Math.abs(w - plot.width) > 2) plot.setSize({ width: w, height: w < 500 ? 150 : 190 });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [kind, series, bucketMs]);

  return <div className={`plot plot-${kind}`} ref={ref} />;
}

function compactMs(v: number): string {
  if (v >= 1000) return `${+(v / 1000).toFixed(1)}s`;
  return `${Math.round(v)}`;
}

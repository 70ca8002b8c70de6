import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { messageOf } from '../api';
import { useSession } from '../context';
import { formatPeriod } from '../format';
import { useInterval, useLoad } from '../hooks';
import { href, navigate } from '../router';
import type { Delivery, Webhook } from '../types';
import { DeliveryBadge, ErrorMessage, Loading, Time } from '../components/ui';

const STATUSES = [
  { value: '', label: 'All statuses' },
  { value: 'succeeded', label: 'Succeeded' },
  { value: 'failed', label: 'Failed' },
  { value: 'pending', label: 'Pending' },
];

const REFRESH_MS = 3000;

export function Logs({ webhook, query }: { webhook: Webhook; query: URLSearchParams }) {
  const { api, workspace, eventTypes } = useSession();
  const status = query.get('status') ?? '';
  const event = query.get('event') ?? '';
  const catalog = useLoad(() => eventTypes(), [eventTypes]);
  const ids = { status: useId(), event: useId(), live: useId() };

  const [items, setItems] = useState<Delivery[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [pages, setPages] = useState(0);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [moreError, setMoreError] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [live, setLive] = useState(true);
  const generation = useRef(0);

  const loadFirst = useCallback(
    async (quiet: boolean) => {
      const gen = ++generation.current;
      if (!quiet) setLoading(true);
      try {
        const page = await api.deliveries(webhook.id, { status, event });
        if (gen !== generation.current) return;
        setItems(page.data);
        setCursor(page.next_cursor);
        setPages(1);
        setError(null);
      } catch (err) {
        if (gen !== generation.current) return;
        setError(`Could not load the delivery log: ${messageOf(err)}`);
      } finally {
        if (gen === generation.current) setLoading(false);
      }
    },
    [api, webhook.id, status, event],
  );

  useEffect(() => {
    setItems([]);
    setPages(0);
    setMoreError(null);
    void loadFirst(false);
  }, [loadFirst]);

  // Keep the newest page current while nothing older has been loaded.
  useInterval(() => void loadFirst(true), REFRESH_MS, live && pages === 1 && !loading);

  async function loadMore() {
    if (!cursor) return;
    const gen = generation.current;
    setLoadingMore(true);
    setMoreError(null);
    try {
      const page = await api.deliveries(webhook.id, { status, event, cursor });
      if (gen !== generation.current) return;
      setItems((cur) => {
        const seen = new Set(cur.map((d) => d.id));
        return [...cur, ...page.data.filter((d) => !seen.has(d.id))];
      });
      setCursor(page.next_cursor);
      setPages((p) => p + 1);
    } catch (err) {
      setMoreError(`Could not load older deliveries: ${messageOf(err)}`);
    } finally {
      setLoadingMore(false);
    }
  }

  function setFilter(name: 'status' | 'event', value: string) {
    const next = new URLSearchParams(query);
    if (value) next.set(name, value);
    else next.delete(name);
    const qs = next.toString();
    navigate(`${href('webhooks', webhook.id, 'logs')}${qs ? `?${qs}` : ''}`, { replace: true });
  }

  const filtered = Boolean(status || event);
  return (
    <section className="card" aria-labelledby="logs-title">
      <div className="section-head">
        <h2 id="logs-title">Delivery log</h2>
        <p className="muted small retention">
          Logs are kept for {formatPeriod(workspace.retention_seconds)} after a delivery ends, then deleted.
        </p>
      </div>
      <div className="filters">
        <div className="field inline">
          <label htmlFor={ids.status}>Status</label>
          <select id={ids.status} value={status} onChange={(e) => setFilter('status', e.target.value)}>
            {STATUSES.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field inline">
          <label htmlFor={ids.event}>Event type</label>
          <select id={ids.event} value={event} onChange={(e) => setFilter('event', e.target.value)}>
            <option value="">All event types</option>
            {(catalog.data ?? []).map((t) => (
              <option key={t.name} value={t.name}>
                {t.name}
              </option>
            ))}
            {event && !catalog.data?.some((t) => t.name === event) && <option value={event}>{event}</option>}
          </select>
        </div>
        <div className="filter-actions">
          <label className="check-inline" htmlFor={ids.live}>
            <input id={ids.live} type="checkbox" checked={live} onChange={(e) => setLive(e.target.checked)} />
            Auto-refresh
          </label>
          <button type="button" className="button small" onClick={() => void loadFirst(false)} disabled={loading}>
            Refresh
          </button>
        </div>
      </div>
      {catalog.error && <ErrorMessage onRetry={catalog.reload}>Could not load the event types for the filter: {catalog.error}</ErrorMessage>}
      {error && <ErrorMessage onRetry={() => void loadFirst(false)}>{error}</ErrorMessage>}
      {loading && items.length === 0 && <Loading label="Loading deliveries…" />}
      {!loading && !error && items.length === 0 && (
        <div className="empty-inline">
          {filtered ? (
            <p>No deliveries match these filters.</p>
          ) : (
            <p>
              No deliveries yet. Events this endpoint subscribes to show up here as they are sent; try the{' '}
              <a href={href('webhooks', webhook.id, 'simulator')}>simulator</a>.
            </p>
          )}
        </div>
      )}
      {items.length > 0 && (
        <div className="table-wrap">
          <table className="table deliveries">
            <caption className="visually-hidden">Deliveries, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Created</th>
                <th scope="col">Event</th>
                <th scope="col">Status</th>
                <th scope="col">Attempts</th>
                <th scope="col">Last result</th>
              </tr>
            </thead>
            <tbody>
              {items.map((d) => (
                <tr key={d.id}>
                  <td data-label="Created">
                    <a href={href('webhooks', webhook.id, 'logs', d.id)} aria-label={`Delivery ${d.id}: ${d.event}, ${d.status}`}>
                      <Time iso={d.created_at} relative={false} />
                    </a>
                  </td>
                  <td data-label="Event">
                    <div>
                      <code>{d.event}</code>
                      {d.test && <span className="tag test">test</span>}
                    </div>
                  </td>
                  <td data-label="Status">
                    <div>
                      <DeliveryBadge status={d.status} />
                      {d.status === 'pending' && d.next_attempt_at && d.attempts > 0 && (
                        <div className="muted small">
                          next try <Time iso={d.next_attempt_at} />
                        </div>
                      )}
                    </div>
                  </td>
                  <td data-label="Attempts">
                    <span>
                      {d.attempts} of {d.max_attempts}
                    </span>
                  </td>
                  <td data-label="Last result" className="last-result">
                    <div className="min0">
                      {d.last_status_code !== null ? (
                        <span className={d.last_status_code < 300 ? 'ok-text' : 'bad-text'}>HTTP {d.last_status_code}</span>
                      ) : null}
                      {d.last_error && <div className="small bad-text clip" title={d.last_error}>{d.last_error}</div>}
                      {d.last_status_code === null && !d.last_error && <span className="muted">—</span>}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ErrorMessage onRetry={loadMore}>{moreError}</ErrorMessage>
      {cursor && items.length > 0 && (
        <div className="actions center">
          <button type="button" className="button" onClick={loadMore} disabled={loadingMore}>
            {loadingMore ? 'Loading…' : 'Load more'}
          </button>
        </div>
      )}
      {!cursor && items.length > 0 && pages > 1 && <p className="muted small center">That’s all of them.</p>}
    </section>
  );
}

import { useSession } from '../context';
import { formatRate } from '../format';
import { useDocumentTitle, useLoad } from '../hooks';
import { href } from '../router';
import type { Webhook } from '../types';
import { ErrorMessage, Loading, StatusBadge, Time } from '../components/ui';
import { EventList } from '../components/EventList';

export function WebhookList() {
  useDocumentTitle('Webhooks');
  const { api } = useSession();
  const list = useLoad(() => api.webhooks(), [api]);

  return (
    <>
      <div className="page-head">
        <div>
          <h1>Webhooks</h1>
          <p className="lead">Endpoints that receive your workspace’s events as signed HTTP POST requests.</p>
        </div>
        {list.data && list.data.length > 0 && (
          <a className="button primary" href="#/webhooks/new">
            Add endpoint
          </a>
        )}
      </div>
      {list.error && <ErrorMessage onRetry={list.reload}>Could not load the endpoints: {list.error}</ErrorMessage>}
      {list.loading && !list.data && <Loading label="Loading endpoints…" />}
      {list.data && list.data.length === 0 && <EmptyState />}
      {list.data && list.data.length > 0 && <Table webhooks={list.data} />}
    </>
  );
}

function EmptyState() {
  return (
    <section className="card empty" aria-labelledby="empty-title">
      <h2 id="empty-title">No endpoints yet</h2>
      <p>An endpoint is a URL on your side that Social Flow calls when something happens: a post goes live, a forecast is ready, an agent learns.</p>
      <ol className="steps">
        <li>
          <strong>Register an endpoint</strong>: give its HTTPS URL and pick the events it should receive.
        </li>
        <li>
          <strong>Verify signatures</strong>: keep the signing secret shown after registering and check each request with it.
        </li>
        <li>
          <strong>Send a test event</strong> from the simulator and watch it arrive in the logs.
        </li>
      </ol>
      <a className="button primary" href="#/webhooks/new">
        Register your first endpoint
      </a>
      <p className="hint">
        Not sure which events you need? Browse the <a href="#/event-types">event types</a>.
      </p>
    </section>
  );
}

function Table({ webhooks }: { webhooks: Webhook[] }) {
  return (
    <div className="table-wrap">
      <table className="table webhooks">
        <caption className="visually-hidden">Registered endpoints</caption>
        <thead>
          <tr>
            <th scope="col">Endpoint</th>
            <th scope="col">Events</th>
            <th scope="col">Status</th>
            <th scope="col">Success (24 h)</th>
            <th scope="col">Last delivery</th>
          </tr>
        </thead>
        <tbody>
          {webhooks.map((w) => (
            <tr key={w.id}>
              <td data-label="Endpoint">
                <div>
                  <a className="url" href={href('webhooks', w.id)}>
                    {w.url}
                  </a>
                  {w.description && <div className="muted small">{w.description}</div>}
                </div>
              </td>
              <td data-label="Events">
                <EventList events={w.events} />
              </td>
              <td data-label="Status">
                <div>
                  <StatusBadge webhook={w} />
                  {w.status === 'disabled' && w.disabled_reason && <div className="small bad-text">{w.disabled_reason}</div>}
                  {w.status === 'enabled' && w.failing_since && (
                    <div className="small bad-text">
                      Failing since <Time iso={w.failing_since} />
                    </div>
                  )}
                </div>
              </td>
              <td data-label="Success (24 h)">
                {w.stats && w.stats.attempts_24h > 0 ? (
                  <div>
                    <span className={rateClass(w.stats.success_rate_24h)}>{formatRate(w.stats.success_rate_24h)}</span>
                    <div className="muted small">
                      {w.stats.succeeded_24h} of {w.stats.attempts_24h} attempts
                    </div>
                  </div>
                ) : (
                  <span className="muted">No attempts</span>
                )}
              </td>
              <td data-label="Last delivery">
                {w.stats?.last_attempt_at ? (
                  <div>
                    <span className={w.stats.last_attempt_ok ? 'ok-text' : 'bad-text'} aria-hidden="true">
                      {w.stats.last_attempt_ok ? '✓ ' : '✗ '}
                    </span>
                    <span className="visually-hidden">{w.stats.last_attempt_ok ? 'Succeeded' : 'Failed'}, </span>
                    <Time iso={w.stats.last_attempt_at} />
                  </div>
                ) : (
                  <span className="muted">Never</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function rateClass(rate: number | null) {
  if (rate === null) return 'muted';
  if (rate >= 0.99) return 'ok-text';
  if (rate >= 0.9) return 'warn-text';
  return 'bad-text';
}

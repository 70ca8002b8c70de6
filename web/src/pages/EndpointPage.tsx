import { useSession } from '../context';
import { useDocumentTitle, useLoad } from '../hooks';
import { href, type EndpointTab, type Route } from '../router';
import type { Webhook } from '../types';
import { ErrorMessage, Loading, StatusBadge, Time } from '../components/ui';
import { EventList } from '../components/EventList';
import { SecretPanel } from '../components/SecretPanel';
import { StatsChart } from '../components/StatsChart';
import { Settings } from './Settings';
import { Simulator } from './Simulator';
import { Logs } from './Logs';
import { DeliveryView } from './DeliveryView';

const TABS: { tab: EndpointTab; label: string }[] = [
  { tab: 'overview', label: 'Overview' },
  { tab: 'logs', label: 'Logs' },
  { tab: 'simulator', label: 'Simulator' },
  { tab: 'settings', label: 'Settings' },
];

export function EndpointPage({ route }: { route: Extract<Route, { page: 'webhook' }> }) {
  const { api } = useSession();
  const wh = useLoad(() => api.webhook(route.id), [api, route.id]);
  useDocumentTitle(wh.data ? `${TABS.find((t) => t.tab === route.tab)?.label ?? ''} · ${wh.data.url}` : 'Endpoint');

  if (wh.error && !wh.data) {
    return (
      <>
        <Breadcrumbs />
        <h1>Endpoint</h1>
        <ErrorMessage onRetry={wh.reload}>Could not load this endpoint: {wh.error}</ErrorMessage>
        <p>
          Back to <a href="#/webhooks">all webhooks</a>.
        </p>
      </>
    );
  }
  if (!wh.data) {
    return (
      <>
        <Breadcrumbs />
        <Loading label="Loading the endpoint…" />
      </>
    );
  }
  const webhook = wh.data;
  return (
    <>
      <Breadcrumbs webhook={webhook} />
      <div className="page-head endpoint-head">
        <div className="min0">
          <h1 className="url-title">{webhook.url}</h1>
          <div className="head-meta">
            <StatusBadge webhook={webhook} />
            {webhook.description && <span className="muted">{webhook.description}</span>}
          </div>
        </div>
      </div>
      {webhook.status === 'disabled' && (
        <div className={`banner ${webhook.disabled_reason ? 'bad' : ''}`} role="note">
          {webhook.disabled_reason ? (
            <>
              <strong>Delivery was turned off automatically:</strong> {webhook.disabled_reason}
            </>
          ) : (
            <strong>This endpoint is disabled and receives no events.</strong>
          )}{' '}
          {route.tab !== 'settings' && <a href={href('webhooks', webhook.id, 'settings')}>Enable it in Settings</a>}
        </div>
      )}
      {webhook.status === 'enabled' && webhook.failing_since && (
        <div className="banner bad" role="note">
          <strong>Deliveries are failing</strong> (since <Time iso={webhook.failing_since} />):{' '}
          {webhook.consecutive_failures && webhook.consecutive_failures > 1
            ? `the last ${webhook.consecutive_failures} deliveries failed.`
            : 'the last delivery failed.'}{' '}
          {route.tab !== 'logs' && <a href={href('webhooks', webhook.id, 'logs') + '?status=failed'}>See the failed deliveries</a>}
        </div>
      )}
      <nav className="tabs" aria-label="Endpoint sections">
        {TABS.map((t) => (
          <a key={t.tab} href={t.tab === 'overview' ? href('webhooks', webhook.id) : href('webhooks', webhook.id, t.tab)} aria-current={route.tab === t.tab ? 'page' : undefined}>
            {t.label}
          </a>
        ))}
      </nav>
      <div className="tab-body">
        {route.tab === 'overview' && <Overview webhook={webhook} />}
        {route.tab === 'settings' && <Settings webhook={webhook} onChange={wh.set} />}
        {route.tab === 'simulator' && <Simulator webhook={webhook} />}
        {route.tab === 'logs' && !route.deliveryId && <Logs webhook={webhook} query={route.query} />}
        {route.tab === 'logs' && route.deliveryId && <DeliveryView webhook={webhook} deliveryId={route.deliveryId} />}
      </div>
    </>
  );
}

function Breadcrumbs({ webhook }: { webhook?: Webhook }) {
  return (
    <p className="breadcrumbs">
      <a href="#/webhooks">Webhooks</a> <span aria-hidden="true">/</span> <span className="crumb-id">{webhook?.id ?? '…'}</span>
    </p>
  );
}

function Overview({ webhook }: { webhook: Webhook }) {
  return (
    <div className="stack">
      <section className="card" aria-labelledby="details-title">
        <h2 id="details-title">Details</h2>
        <dl className="details">
          <div>
            <dt>Endpoint ID</dt>
            <dd className="mono">{webhook.id}</dd>
          </div>
          <div>
            <dt>URL</dt>
            <dd className="url">{webhook.url}</dd>
          </div>
          <div>
            <dt>Events</dt>
            <dd>
              <EventList events={webhook.events} />
            </dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd>
              <Time iso={webhook.created_at} relative={false} />
            </dd>
          </div>
          <div>
            <dt>Last changed</dt>
            <dd>
              <Time iso={webhook.updated_at} />
            </dd>
          </div>
        </dl>
      </section>
      <SecretPanel webhook={webhook} />
      <StatsChart webhookId={webhook.id} />
    </div>
  );
}

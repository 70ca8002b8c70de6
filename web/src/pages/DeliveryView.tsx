import { useState } from 'react';
import { messageOf } from '../api';
import { useSession } from '../context';
import { describeFailure, formatDuration, prettyJson } from '../format';
import { useDocumentTitle, useInterval, useLoad } from '../hooks';
import { href } from '../router';
import type { Attempt, Webhook } from '../types';
import { CodeBlock, CopyButton, DeliveryBadge, ErrorMessage, KeyValues, Loading, Time } from '../components/ui';

const POLL_MS = 1500;

export function DeliveryView({ webhook, deliveryId }: { webhook: Webhook; deliveryId: string }) {
  const { api } = useSession();
  useDocumentTitle(`Delivery ${deliveryId}`);
  const d = useLoad(() => api.delivery(deliveryId), [api, deliveryId]);
  const [retrying, setRetrying] = useState(false);
  const [retryError, setRetryError] = useState<string | null>(null);
  const [retried, setRetried] = useState(false);

  // While a delivery is still being attempted, follow it.
  useInterval(d.reload, POLL_MS, d.data?.status === 'pending' && !d.loading);

  async function retry() {
    setRetrying(true);
    setRetryError(null);
    try {
      await api.retryDelivery(deliveryId);
      setRetried(true);
      d.reload();
    } catch (err) {
      setRetryError(`Could not retry: ${messageOf(err)}`);
    } finally {
      setRetrying(false);
    }
  }

  const back = (
    <p>
      <a href={href('webhooks', webhook.id, 'logs')}>← All deliveries</a>
    </p>
  );
  if (d.error && !d.data) {
    return (
      <>
        {back}
        <ErrorMessage onRetry={d.reload}>Could not load delivery {deliveryId}: {d.error}</ErrorMessage>
      </>
    );
  }
  if (!d.data) {
    return (
      <>
        {back}
        <Loading label="Loading the delivery…" />
      </>
    );
  }
  const delivery = d.data;
  const attempts = [...delivery.attempts].sort((a, b) => b.number - a.number);
  return (
    <div className="stack">
      {back}
      <section className="card" aria-labelledby="delivery-title">
        <div className="section-head">
          <h2 id="delivery-title">
            <code>{delivery.event}</code> delivery
          </h2>
          <div className="head-meta">
            <DeliveryBadge status={delivery.status} />
            {delivery.test && <span className="tag test">test</span>}
          </div>
        </div>
        <dl className="facts">
          <div>
            <dt>Delivery ID</dt>
            <dd className="mono">{delivery.id}</dd>
          </div>
          <div>
            <dt>Event ID</dt>
            <dd className="mono">{delivery.event_id}</dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd>
              <Time iso={delivery.created_at} relative={false} />
            </dd>
          </div>
          <div>
            <dt>Attempts</dt>
            <dd>
              {delivery.attempts.length} of {delivery.max_attempts}
            </dd>
          </div>
          {delivery.status === 'pending' && (
            <div>
              <dt>Next attempt</dt>
              <dd>{delivery.next_attempt_at ? <Time iso={delivery.next_attempt_at} /> : 'soon'}</dd>
            </div>
          )}
        </dl>
        {delivery.status === 'failed' && (
          <div className="retry-box">
            <p>
              {delivery.test
                ? 'This test delivery failed.'
                : `All ${delivery.attempts.length} attempt${delivery.attempts.length === 1 ? '' : 's'} failed.`}{' '}
              Once your endpoint is fixed, send the same event again (same <code>webhook-id</code>, so your code can spot a
              duplicate).
            </p>
            <button type="button" className="button primary" onClick={retry} disabled={retrying}>
              {retrying ? 'Retrying…' : 'Retry delivery'}
            </button>
          </div>
        )}
        {retried && delivery.status === 'pending' && (
          <p className="notice" role="status">
            Retry queued. This page updates as the attempt runs.
          </p>
        )}
        {retried && delivery.status === 'succeeded' && (
          <p className="success-text" role="status">
            The retry succeeded.
          </p>
        )}
        <ErrorMessage>{retryError}</ErrorMessage>
        {d.error && <ErrorMessage onRetry={d.reload}>Could not refresh: {d.error}</ErrorMessage>}
      </section>

      <section className="card" aria-labelledby="payload-title">
        <div className="section-head">
          <h2 id="payload-title">Payload</h2>
          {delivery.payload !== null && <CopyButton text={delivery.payload} label="Copy payload" />}
        </div>
        {delivery.payload !== null ? (
          <CodeBlock label="Payload">{prettyJson(delivery.payload)}</CodeBlock>
        ) : (
          <p className="muted">The payload is no longer kept.</p>
        )}
      </section>

      <section aria-labelledby="attempts-title">
        <h2 id="attempts-title">Attempts</h2>
        {attempts.length === 0 ? (
          <p className="muted card">No attempt has been made yet.</p>
        ) : (
          <ol className="attempts" reversed>
            {attempts.map((a, i) => (
              <AttemptView key={a.id} attempt={a} open={i === 0} />
            ))}
          </ol>
        )}
      </section>
    </div>
  );
}

function AttemptView({ attempt, open }: { attempt: Attempt; open: boolean }) {
  const summary = attempt.ok
    ? `HTTP ${attempt.response?.status ?? ''}`.trim()
    : attempt.response
      ? `HTTP ${attempt.response.status}`
      : attempt.failure === 'timeout'
        ? 'Timed out'
        : attempt.failure === 'blocked_address'
          ? 'Blocked address'
          : 'No response';
  return (
    <li className={`attempt ${attempt.ok ? 'ok' : 'bad'}`}>
      <details open={open}>
        <summary>
          <span className="attempt-no">Attempt {attempt.number}</span>
          <span className={attempt.ok ? 'ok-text' : 'bad-text'}>
            {attempt.ok ? '✓' : '✗'} {summary}
          </span>
          <span className="muted">{formatDuration(attempt.duration_ms)}</span>
          <span className="muted">
            <Time iso={attempt.started_at} relative={false} />
          </span>
        </summary>
        <div className="attempt-body">
          {!attempt.ok && <p className="bad-text failure">{describeFailure(attempt.failure, attempt.error, attempt.response?.status)}</p>}
          <div className="req-res">
            <div>
              <h3>Request</h3>
              <p className="mono small url">POST {attempt.request.url}</p>
              <h4>Headers</h4>
              <KeyValues entries={attempt.request.headers} />
              <h4>Body</h4>
              {attempt.request.body !== null ? (
                <CodeBlock label={`Request body of attempt ${attempt.number}`}>{prettyJson(attempt.request.body)}</CodeBlock>
              ) : (
                <p className="muted">No longer kept.</p>
              )}
            </div>
            <div>
              <h3>Response</h3>
              {attempt.response ? (
                <>
                  <p className={attempt.response.status < 300 ? 'ok-text' : 'bad-text'}>
                    <strong>HTTP {attempt.response.status}</strong>
                  </p>
                  <h4>Headers</h4>
                  <KeyValues entries={attempt.response.headers} />
                  <h4>Body</h4>
                  {attempt.response.body ? (
                    <CodeBlock label={`Response body of attempt ${attempt.number}`}>{prettyJson(attempt.response.body)}</CodeBlock>
                  ) : (
                    <p className="muted">Empty</p>
                  )}
                  {attempt.response.body_truncated && <p className="muted small">The body was longer; only its beginning is kept.</p>}
                </>
              ) : (
                <p className="muted">No response was received.</p>
              )}
            </div>
          </div>
        </div>
      </details>
    </li>
  );
}


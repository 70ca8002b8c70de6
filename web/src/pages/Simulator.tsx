import { useEffect, useId, useMemo, useState, type FormEvent } from 'react';
import { messageOf } from '../api';
import { useSession } from '../context';
import { describeFailure, formatDuration, prettyJson } from '../format';
import { useLoad } from '../hooks';
import { href } from '../router';
import type { EventType, TestResult, Webhook } from '../types';
import { CodeBlock, ErrorMessage, KeyValues, Loading } from '../components/ui';

function subscribed(webhook: Webhook, name: string) {
  return webhook.events.includes('*') || webhook.events.includes(name);
}

export function Simulator({ webhook }: { webhook: Webhook }) {
  const { eventTypes } = useSession();
  const catalog = useLoad(() => eventTypes(), [eventTypes]);
  if (catalog.error) return <ErrorMessage onRetry={catalog.reload}>Could not load the event types: {catalog.error}</ErrorMessage>;
  if (!catalog.data) return <Loading label="Loading event types…" />;
  return <SimulatorForm webhook={webhook} types={catalog.data} />;
}

function SimulatorForm({ webhook, types }: { webhook: Webhook; types: EventType[] }) {
  const { api } = useSession();
  // Subscribed types first: those are the ones this endpoint really gets.
  const ordered = useMemo(
    () => [...types].sort((a, b) => Number(subscribed(webhook, b.name)) - Number(subscribed(webhook, a.name))),
    [types, webhook],
  );
  const [event, setEvent] = useState(ordered[0]?.name ?? '');
  const type = types.find((t) => t.name === event);
  const example = useMemo(() => (type ? JSON.stringify(type.example, null, 2) : ''), [type]);
  const [payload, setPayload] = useState(example);
  const [jsonError, setJsonError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<TestResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const ids = { event: useId(), payload: useId(), payloadHint: useId(), payloadErr: useId() };

  useEffect(() => {
    setPayload(example);
    setJsonError(null);
  }, [example]);

  function parse(text: string): Record<string, unknown> | string {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      return `The payload is not valid JSON: ${messageOf(err)}`;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'The payload must be a JSON object ({ … }).';
    return value as Record<string, unknown>;
  }

  async function send(e: FormEvent) {
    e.preventDefault();
    const edited = payload.trim() !== example.trim();
    let body: Record<string, unknown> | undefined;
    if (edited) {
      const parsed = parse(payload);
      if (typeof parsed === 'string') {
        setJsonError(parsed);
        document.getElementById(ids.payload)?.focus();
        return;
      }
      body = parsed;
    }
    setJsonError(null);
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      setResult(await api.sendTest(webhook.id, event, body));
    } catch (err) {
      setError(`The test event was not sent: ${messageOf(err)}`);
    } finally {
      setBusy(false);
    }
  }

  const disabled = webhook.status === 'disabled';
  return (
    <div className="stack">
      <section className="card" aria-labelledby="sim-title">
        <h2 id="sim-title">Send a test event</h2>
        <p className="muted">
          Sends one signed request to <span className="url">{webhook.url}</span> right now and shows what your endpoint answered. Test
          deliveries appear in the logs, marked “test”, and are not retried.
        </p>
        <form className="form" onSubmit={send} noValidate>
          <div className="field">
            <label htmlFor={ids.event}>Event type</label>
            <select id={ids.event} value={event} onChange={(e) => { setEvent(e.target.value); setResult(null); setError(null); }}>
              {ordered.map((t) => (
                <option key={t.name} value={t.name}>
                  {t.name}
                  {subscribed(webhook, t.name) ? '' : ' (not subscribed)'}
                </option>
              ))}
            </select>
            {type && <p className="hint">{type.description}</p>}
            {type && !subscribed(webhook, type.name) && (
              <p className="field-warning">This endpoint does not subscribe to {type.name}, so it never receives it outside of tests.</p>
            )}
          </div>
          <div className="field">
            <div className="label-row">
              <label htmlFor={ids.payload}>Payload (JSON)</label>
              <button type="button" className="button small" onClick={() => { setPayload(example); setJsonError(null); }} disabled={payload === example}>
                Reset to example
              </button>
            </div>
            <textarea
              id={ids.payload}
              className="mono payload"
              wrap="off"
              rows={Math.min(22, Math.max(8, payload.split('\n').length + 1))}
              spellCheck={false}
              value={payload}
              onChange={(e) => {
                setPayload(e.target.value);
                if (jsonError) setJsonError(null);
              }}
              aria-invalid={jsonError ? true : undefined}
              aria-describedby={`${ids.payloadHint}${jsonError ? ` ${ids.payloadErr}` : ''}`}
            />
            <p className="hint" id={ids.payloadHint}>
              The example payload for this event type. Edit it to try other values; it is checked against the event’s schema.
            </p>
            {jsonError && (
              <p className="field-error" id={ids.payloadErr}>
                {jsonError}
              </p>
            )}
          </div>
          {disabled && <p className="field-warning">This endpoint is disabled; enable it in Settings to send test events.</p>}
          <ErrorMessage>{error}</ErrorMessage>
          <div className="actions">
            <button type="submit" className="button primary" disabled={busy}>
              {busy ? 'Sending…' : 'Send test event'}
            </button>
          </div>
        </form>
      </section>
      {busy && <Loading label="Waiting for your endpoint to answer…" />}
      {result && <Outcome webhook={webhook} result={result} />}
    </div>
  );
}

function Outcome({ webhook, result }: { webhook: Webhook; result: TestResult }) {
  return (
    <section className={`card outcome ${result.ok ? 'ok' : 'bad'}`} aria-labelledby="outcome-title" aria-live="polite">
      <h2 id="outcome-title">{result.ok ? 'Delivered' : 'Not delivered'}</h2>
      <dl className="facts">
        <div>
          <dt>Status</dt>
          <dd className={`status-code ${result.ok ? 'ok-text' : 'bad-text'}`}>{result.status_code ?? 'No response'}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{formatDuration(result.duration_ms)}</dd>
        </div>
        <div>
          <dt>Delivery</dt>
          <dd>
            <a href={href('webhooks', webhook.id, 'logs', result.delivery_id)}>{result.delivery_id}</a>
          </dd>
        </div>
      </dl>
      {!result.ok && <p className="bad-text failure">{describeFailure(result.failure, result.error, result.status_code)}</p>}
      {result.response_headers && (
        <>
          <h3>Response headers</h3>
          <KeyValues entries={result.response_headers} />
        </>
      )}
      {result.status_code !== null && (
        <>
          <h3>Response body</h3>
          {result.response_body ? <CodeBlock label="Response body">{prettyJson(result.response_body)}</CodeBlock> : <p className="muted">Empty</p>}
        </>
      )}
    </section>
  );
}

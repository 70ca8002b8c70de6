// The form to register or edit an endpoint: URL (checked as you type), events, description.
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { ApiError, messageOf } from '../api';
import { useSession } from '../context';
import { useLoad } from '../hooks';
import { ErrorMessage, Loading } from './ui';

export interface EndpointValues {
  url: string;
  events: string[];
  description: string;
}

type FieldErrors = Partial<Record<'url' | 'events' | 'form', string>>;

/** Returns an error message for a URL the API would refuse, or null when it looks fine. */
export function checkUrl(raw: string): string | null {
  const value = raw.trim();
  if (!value) return 'Enter the URL that should receive the events.';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'Enter a full URL that starts with https://, for example https://example.com/webhooks.';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return `Only http:// and https:// URLs can receive webhooks (this one is ${url.protocol.replace(':', '')}://).`;
  }
  if (!url.hostname) return 'The URL needs a host name, for example https://example.com/webhooks.';
  if (url.username || url.password) {
    return 'Remove the user name and password from the URL; receivers check the signature instead.';
  }
  if (value.length > 2048) return 'The URL is longer than 2048 characters.';
  return null;
}

function urlWarning(raw: string): string | null {
  try {
    const url = new URL(raw.trim());
    if (url.protocol === 'http:') return 'Plain http is not encrypted. Use https for anything but local testing.';
  } catch {
    // reported as an error instead
  }
  return null;
}

export function EndpointForm({
  initial,
  submitLabel,
  busyLabel,
  onSubmit,
  onCancel,
}: {
  initial: EndpointValues;
  submitLabel: string;
  busyLabel: string;
  onSubmit: (values: EndpointValues) => Promise<void>;
  onCancel?: () => void;
}) {
  const { eventTypes } = useSession();
  const catalog = useLoad(() => eventTypes(), [eventTypes]);
  const [url, setUrl] = useState(initial.url);
  const [urlTouched, setUrlTouched] = useState(false);
  const [events, setEvents] = useState<string[]>(initial.events);
  const [description, setDescription] = useState(initial.description);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [busy, setBusy] = useState(false);
  const urlRef = useRef<HTMLInputElement>(null);
  const eventsRef = useRef<HTMLFieldSetElement>(null);
  const ids = { url: useId(), urlErr: useId(), urlHint: useId(), urlWarn: useId(), events: useId(), eventsErr: useId(), desc: useId(), form: useId() };

  const all = events.includes('*');
  const warning = !errors.url ? urlWarning(url) : null;

  // Once the URL field has been left, keep its message in step with what is typed.
  useEffect(() => {
    if (urlTouched) setErrors((e) => ({ ...e, url: checkUrl(url) ?? undefined }));
  }, [url, urlTouched]);

  function toggle(name: string, on: boolean) {
    setErrors((e) => ({ ...e, events: undefined }));
    if (name === '*') {
      setEvents(on ? ['*'] : []);
      return;
    }
    setEvents((cur) => (on ? [...cur.filter((e) => e !== '*' && e !== name), name] : cur.filter((e) => e !== name)));
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    const next: FieldErrors = {};
    const urlError = checkUrl(url);
    if (urlError) next.url = urlError;
    if (events.length === 0) next.events = 'Choose at least one event type, or “All events”.';
    setUrlTouched(true);
    setErrors(next);
    if (next.url) return urlRef.current?.focus();
    if (next.events) return eventsRef.current?.querySelector('input')?.focus();
    setBusy(true);
    try {
      await onSubmit({ url: url.trim(), events, description: description.trim() });
    } catch (err) {
      const mapped = mapError(err);
      setErrors(mapped);
      if (mapped.url) urlRef.current?.focus();
      else if (mapped.events) eventsRef.current?.querySelector('input')?.focus();
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="form" onSubmit={submit} noValidate aria-describedby={errors.form ? ids.form : undefined}>
      <div className="field">
        <label htmlFor={ids.url}>Endpoint URL</label>
        <input
          id={ids.url}
          ref={urlRef}
          name="url"
          type="url"
          inputMode="url"
          autoComplete="url"
          spellCheck={false}
          placeholder="https://example.com/webhooks/social-flow"
          value={url}
          onChange={(e) => setUrl(e.target.value)}
          onBlur={() => setUrlTouched(true)}
          aria-invalid={errors.url ? true : undefined}
          aria-describedby={[ids.urlHint, errors.url ? ids.urlErr : '', warning ? ids.urlWarn : ''].filter(Boolean).join(' ')}
        />
        <p className="hint" id={ids.urlHint}>
          Social Flow sends a POST request with a JSON body here for every subscribed event. Answer with any 2xx status.
        </p>
        {errors.url && (
          <p className="field-error" id={ids.urlErr}>
            {errors.url}
          </p>
        )}
        {warning && (
          <p className="field-warning" id={ids.urlWarn}>
            {warning}
          </p>
        )}
      </div>

      <fieldset className="field events" ref={eventsRef} aria-describedby={errors.events ? ids.eventsErr : undefined}>
        <legend>Events to send</legend>
        <label className="check all-events">
          <input type="checkbox" name="events" value="*" checked={all} onChange={(e) => toggle('*', e.target.checked)} />
          <span>
            <span className="check-title">All events</span>
            <span className="check-desc">Every event type, including types added later.</span>
          </span>
        </label>
        {catalog.error && <ErrorMessage onRetry={catalog.reload}>Could not load the event types: {catalog.error}</ErrorMessage>}
        {catalog.loading && !catalog.data && <Loading label="Loading event types…" />}
        {catalog.data && (
          <div className="check-grid">
            {catalog.data.map((t) => (
              <label key={t.name} className={`check${all ? ' dimmed' : ''}`}>
                <input
                  type="checkbox"
                  name="events"
                  value={t.name}
                  checked={all || events.includes(t.name)}
                  disabled={all}
                  onChange={(e) => toggle(t.name, e.target.checked)}
                />
                <span>
                  <code className="check-title">{t.name}</code>
                  <span className="check-desc">{t.description}</span>
                </span>
              </label>
            ))}
          </div>
        )}
        {errors.events && (
          <p className="field-error" id={ids.eventsErr}>
            {errors.events}
          </p>
        )}
      </fieldset>

      <div className="field">
        <label htmlFor={ids.desc}>
          Description <span className="optional">(optional)</span>
        </label>
        <textarea
          id={ids.desc}
          name="description"
          rows={2}
          maxLength={1000}
          value={description}
          placeholder="What this endpoint is for, e.g. “Production CRM sync”"
          onChange={(e) => setDescription(e.target.value)}
        />
      </div>

      {errors.form && <ErrorMessage id={ids.form}>{errors.form}</ErrorMessage>}
      <div className="actions">
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? busyLabel : submitLabel}
        </button>
        {onCancel && (
          <button type="button" className="button" onClick={onCancel} disabled={busy}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}

function mapError(err: unknown): FieldErrors {
  if (err instanceof ApiError) {
    if (err.code === 'invalid_url' || err.code === 'blocked_url') return { url: err.message };
    if (err.code === 'unknown_event_type') return { events: err.message };
    if (err.code === 'validation_failed') {
      if (/\burl\b/i.test(err.message)) return { url: err.message };
      if (/event/i.test(err.message)) return { events: err.message };
    }
  }
  return { form: messageOf(err) };
}

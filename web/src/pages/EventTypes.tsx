import { useEffect } from 'react';
import { useSession } from '../context';
import { useDocumentTitle, useLoad } from '../hooks';
import { href } from '../router';
import { CodeBlock, CopyButton, ErrorMessage, Loading } from '../components/ui';

export function EventTypes({ selected }: { selected?: string }) {
  useDocumentTitle('Event types');
  const { eventTypes } = useSession();
  const catalog = useLoad(() => eventTypes(), [eventTypes]);

  useEffect(() => {
    if (!selected || !catalog.data) return;
    const el = document.getElementById(`type-${selected}`);
    if (el) {
      el.scrollIntoView({ block: 'start' });
      el.querySelector<HTMLElement>('h2')?.focus({ preventScroll: true });
    }
  }, [selected, catalog.data]);

  return (
    <>
      <h1>Event types</h1>
      <p className="lead">
        Every event has a JSON body with at least <code>event</code>, <code>timestamp</code> and <code>agent_id</code>. Types may gain
        fields over time, so ignore fields you don’t know.
      </p>
      {catalog.error && <ErrorMessage onRetry={catalog.reload}>Could not load the event types: {catalog.error}</ErrorMessage>}
      {!catalog.data && catalog.loading && <Loading label="Loading event types…" />}
      {catalog.data && (
        <>
          <nav aria-label="Event types on this page" className="toc">
            <ul className="tags">
              {catalog.data.map((t) => (
                <li key={t.name}>
                  <a className="tag link" href={href('event-types', t.name)}>
                    {t.name}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
          <div className="stack">
            {catalog.data.map((t) => {
              const example = JSON.stringify(t.example, null, 2);
              const schema = JSON.stringify(t.schema, null, 2);
              return (
                <section key={t.name} id={`type-${t.name}`} className={`card event-type${selected === t.name ? ' selected' : ''}`} aria-labelledby={`type-title-${t.name}`}>
                  <h2 id={`type-title-${t.name}`} tabIndex={-1}>
                    <code>{t.name}</code>
                  </h2>
                  <p>{t.description}</p>
                  <div className="two-col">
                    <div className="min0">
                      <div className="code-head">
                        <h3>Example payload</h3>
                        <CopyButton text={example} label="Copy example" />
                      </div>
                      <CodeBlock label={`Example payload of ${t.name}`}>{example}</CodeBlock>
                    </div>
                    <div className="min0">
                      <details className="schema">
                        <summary>
                          <h3>JSON Schema</h3>
                        </summary>
                        <div className="code-head">
                          <span />
                          <CopyButton text={schema} label="Copy schema" />
                        </div>
                        <CodeBlock label={`JSON Schema of ${t.name}`}>{schema}</CodeBlock>
                      </details>
                      <FieldTable schema={t.schema} />
                    </div>
                  </div>
                </section>
              );
            })}
          </div>
        </>
      )}
    </>
  );
}

/** A readable list of the top-level fields: name, type, required, description. */
function FieldTable({ schema }: { schema: Record<string, unknown> }) {
  const props = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  const required = new Set((schema.required ?? []) as string[]);
  const rows = Object.entries(props);
  if (rows.length === 0) return null;
  return (
    <div className="table-wrap">
      <table className="table compact fields">
        <caption>Fields</caption>
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">Type</th>
            <th scope="col">Description</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([name, p]) => (
            <tr key={name}>
              <td>
                <code>{name}</code>
                {required.has(name) ? <span className="req">required</span> : <span className="muted small"> optional</span>}
              </td>
              <td className="small">{typeOf(p)}</td>
              <td className="small">{typeof p.description === 'string' ? p.description : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function typeOf(p: Record<string, unknown>): string {
  if ('const' in p) return JSON.stringify(p.const);
  if (Array.isArray(p.enum)) return p.enum.map((v) => JSON.stringify(v)).join(' | ');
  const t = Array.isArray(p.type) ? p.type.join(' | ') : typeof p.type === 'string' ? p.type : 'any';
  if (t === 'string' && p.format === 'date-time') return 'string (date-time)';
  if (t === 'array' && p.items && typeof p.items === 'object') return `array of ${typeOf(p.items as Record<string, unknown>)}`;
  return t;
}

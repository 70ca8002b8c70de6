import { useEffect, useRef, useState } from 'react';
import { useSession } from '../context';
import { useDocumentTitle } from '../hooks';
import { href, navigate } from '../router';
import type { CreatedWebhook } from '../types';
import { EndpointForm } from '../components/EndpointForm';
import { SecretValue, VerifySnippet } from '../components/Secret';
import { EventList } from '../components/EventList';

export function RegisterEndpoint() {
  useDocumentTitle('Register an endpoint');
  const { api } = useSession();
  const [created, setCreated] = useState<CreatedWebhook | null>(null);

  if (created) return <Created webhook={created} />;
  return (
    <>
      <p className="breadcrumbs">
        <a href="#/webhooks">Webhooks</a> <span aria-hidden="true">/</span> New
      </p>
      <h1>Register an endpoint</h1>
      <div className="card">
        <EndpointForm
          initial={{ url: '', events: [], description: '' }}
          submitLabel="Register endpoint"
          busyLabel="Registering…"
          onCancel={() => navigate('#/webhooks')}
          onSubmit={async (v) => {
            const wh = await api.createWebhook({ url: v.url, events: v.events, ...(v.description ? { description: v.description } : {}) });
            setCreated(wh);
          }}
        />
      </div>
    </>
  );
}

function Created({ webhook }: { webhook: CreatedWebhook }) {
  const headingRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => headingRef.current?.focus(), []);
  return (
    <>
      <p className="breadcrumbs">
        <a href="#/webhooks">Webhooks</a> <span aria-hidden="true">/</span> New
      </p>
      <h1 ref={headingRef} tabIndex={-1}>
        Endpoint registered
      </h1>
      <div className="card">
        <p className="success-text" role="status">
          <strong>{webhook.url}</strong> now receives <EventList events={webhook.events} />
        </p>
        <h2>Signing secret</h2>
        <p>
          Store this secret with your receiving code, for example as an environment variable. Anyone who has it can sign requests
          that look like they came from Social Flow. You can reveal it again or rotate it later on the endpoint page.
        </p>
        <SecretValue secret={webhook.secret} />
        <VerifySnippet />
        <div className="actions">
          <a className="button primary" href={href('webhooks', webhook.id, 'simulator')}>
            Send a test event
          </a>
          <a className="button" href={href('webhooks', webhook.id)}>
            Go to the endpoint
          </a>
        </div>
      </div>
    </>
  );
}

import { useEffect, useRef } from 'react';
import { useSession } from '../context';
import { useRoute, type Route } from '../router';
import { WebhookList } from './WebhookList';
import { RegisterEndpoint } from './RegisterEndpoint';
import { EndpointPage } from './EndpointPage';
import { EventTypes } from './EventTypes';
import { NotFound } from './NotFound';

export function Layout() {
  const { workspace, signOut } = useSession();
  const route = useRoute();
  const mainRef = useRef<HTMLElement>(null);
  const section = route.page === 'event-types' ? 'event-types' : 'webhooks';

  // Move focus to the new page's heading so keyboard and screen reader users start there.
  const pageKey = routeKey(route);
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const h1 = mainRef.current?.querySelector('h1');
    if (h1) {
      h1.setAttribute('tabindex', '-1');
      h1.focus({ preventScroll: false });
    }
  }, [pageKey]);

  return (
    <>
      <a className="skip-link" href="#main" onClick={(e) => {
        e.preventDefault();
        mainRef.current?.focus();
      }}>
        Skip to content
      </a>
      <header className="topbar">
        <div className="brand">
          <img src="/favicon.svg" alt="" width={24} height={24} />
          <span>Social Flow Webhooks</span>
        </div>
        <div className="topbar-right">
          <span className="workspace" title={`Workspace ${workspace.id}`}>
            <span className="visually-hidden">Workspace: </span>
            {workspace.name || workspace.id}
          </span>
          <button type="button" className="button small" onClick={() => signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <div className="shell">
        <nav className="sidenav" aria-label="Developer">
          <p className="nav-heading">Developer</p>
          <ul>
            <li>
              <a href="#/webhooks" aria-current={section === 'webhooks' ? 'page' : undefined}>
                Webhooks
              </a>
            </li>
            <li>
              <a href="#/event-types" aria-current={section === 'event-types' ? 'page' : undefined}>
                Event types
              </a>
            </li>
          </ul>
        </nav>
        <main id="main" ref={mainRef} tabIndex={-1} className="content">
          <Page route={route} />
        </main>
      </div>
    </>
  );
}

function routeKey(r: Route): string {
  switch (r.page) {
    case 'webhook':
      return `webhook/${r.id}/${r.tab}/${r.deliveryId ?? ''}`;
    case 'event-types':
      return 'event-types';
    case 'not-found':
      return `nf/${r.path}`;
    default:
      return r.page;
  }
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'webhooks':
      return <WebhookList />;
    case 'new-webhook':
      return <RegisterEndpoint />;
    case 'webhook':
      return <EndpointPage key={route.id} route={route} />;
    case 'event-types':
      return <EventTypes selected={route.name} />;
    case 'not-found':
      return <NotFound />;
  }
}

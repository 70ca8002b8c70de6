// Hash routes (#/webhooks, #/webhooks/ep_…/logs, #/event-types) so the server only has to serve
// index.html at "/".
import { useEffect, useState } from 'react';

export type EndpointTab = 'overview' | 'logs' | 'simulator' | 'settings';

export type Route =
  | { page: 'webhooks' }
  | { page: 'new-webhook' }
  | { page: 'webhook'; id: string; tab: EndpointTab; deliveryId?: string; query: URLSearchParams }
  | { page: 'event-types'; name?: string }
  | { page: 'not-found'; path: string };

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#/, '');
  const [pathPart = '', queryPart = ''] = raw.split('?', 2);
  const query = new URLSearchParams(queryPart);
  const parts = pathPart.split('/').filter(Boolean).map(safeDecode);
  const [first, second, third, fourth] = parts;
  if (parts.length === 0) return { page: 'webhooks' };
  if (first === 'webhooks') {
    if (second === undefined) return { page: 'webhooks' };
    if (second === 'new' && parts.length === 2) return { page: 'new-webhook' };
    if (third === undefined) return { page: 'webhook', id: second, tab: 'overview', query };
    if (third === 'logs' && parts.length <= 4) return { page: 'webhook', id: second, tab: 'logs', deliveryId: fourth, query };
    if ((third === 'simulator' || third === 'settings') && parts.length === 3) {
      return { page: 'webhook', id: second, tab: third, query };
    }
  }
  if (first === 'event-types' && parts.length <= 2) return { page: 'event-types', name: second };
  return { page: 'not-found', path: pathPart };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseHash(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

/** Build an href for a route path: href('webhooks', id, 'logs') → "#/webhooks/<id>/logs". */
export function href(...parts: string[]): string {
  return '#/' + parts.map(encodeURIComponent).join('/');
}

export function navigate(to: string, { replace = false } = {}): void {
  if (replace) {
    const url = new URL(window.location.href);
    url.hash = to;
    window.history.replaceState(null, '', url);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    window.location.hash = to;
  }
}

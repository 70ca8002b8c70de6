// A small typed client for the /v1 API. Every failure becomes an ApiError with a message a person
// can read, so screens can show it next to whatever caused it.
import type {
  CreatedWebhook,
  Delivery,
  DeliveryDetail,
  EventType,
  Page,
  Stats,
  StatsWindow,
  TestResult,
  Webhook,
  WebhookStatus,
  Workspace,
} from './types';

export class ApiError extends Error {
  /** HTTP status, or 0 when the server could not be reached at all. */
  readonly status: number;
  /** The API's error code (e.g. "invalid_url"), "network" or "bad_response". */
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/** Called when the server rejects the key (401) so the app can sign out. */
type UnauthorizedHandler = (err: ApiError) => void;

export interface WebhookInput {
  url?: string;
  events?: string[];
  description?: string;
  status?: WebhookStatus;
}

export interface DeliveryFilter {
  status?: string;
  event?: string;
  cursor?: string | null;
  limit?: number;
}

export class Api {
  constructor(
    private readonly key: string,
    private readonly onUnauthorized: UnauthorizedHandler = () => {},
  ) {}

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.key}`, Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
    } catch {
      throw new ApiError(0, 'network', 'Could not reach the server. Check your connection and that the service is running.');
    }
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let json: unknown = undefined;
    if (text) {
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
    }
    if (!res.ok) {
      const err = errorFrom(res.status, json);
      if (res.status === 401) this.onUnauthorized(err);
      throw err;
    }
    if (json === undefined) {
      throw new ApiError(res.status, 'bad_response', `The server sent an unexpected answer (HTTP ${res.status}, not JSON).`);
    }
    return json as T;
  }

  workspace() {
    return this.request<Workspace>('GET', '/v1/workspace');
  }

  async eventTypes() {
    return (await this.request<{ data: EventType[] }>('GET', '/v1/event-types')).data;
  }

  async webhooks() {
    return (await this.request<{ data: Webhook[] }>('GET', '/v1/webhooks')).data;
  }

  webhook(id: string) {
    return this.request<Webhook>('GET', `/v1/webhooks/${enc(id)}`);
  }

  createWebhook(input: { url: string; events: string[]; description?: string }) {
    return this.request<CreatedWebhook>('POST', '/v1/webhooks', input);
  }

  updateWebhook(id: string, input: WebhookInput) {
    return this.request<Webhook>('PATCH', `/v1/webhooks/${enc(id)}`, input);
  }

  deleteWebhook(id: string) {
    return this.request<void>('DELETE', `/v1/webhooks/${enc(id)}`);
  }

  secret(id: string) {
    return this.request<{ secret: string; previous_secret_expires_at?: string | null }>('GET', `/v1/webhooks/${enc(id)}/secret`);
  }

  rotateSecret(id: string) {
    return this.request<{ secret: string; previous_secret_expires_at: string | null }>(
      'POST',
      `/v1/webhooks/${enc(id)}/secret/rotate`,
      {},
    );
  }

  sendTest(id: string, event: string, payload?: Record<string, unknown>) {
    return this.request<TestResult>('POST', `/v1/webhooks/${enc(id)}/test`, payload === undefined ? { event } : { event, payload });
  }

  deliveries(id: string, filter: DeliveryFilter = {}) {
    const q = new URLSearchParams();
    if (filter.status) q.set('status', filter.status);
    if (filter.event) q.set('event', filter.event);
    if (filter.cursor) q.set('cursor', filter.cursor);
    q.set('limit', String(filter.limit ?? 20));
    return this.request<Page<Delivery>>('GET', `/v1/webhooks/${enc(id)}/deliveries?${q}`);
  }

  delivery(id: string) {
    return this.request<DeliveryDetail>('GET', `/v1/deliveries/${enc(id)}`);
  }

  retryDelivery(id: string) {
    return this.request<Delivery>('POST', `/v1/deliveries/${enc(id)}/retry`, {});
  }

  stats(id: string, window: StatsWindow) {
    return this.request<Stats>('GET', `/v1/webhooks/${enc(id)}/stats?window=${window}`);
  }
}

function enc(s: string) {
  return encodeURIComponent(s);
}

function errorFrom(status: number, json: unknown): ApiError {
  const e = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (e && typeof e.message === 'string') {
    return new ApiError(status, typeof e.code === 'string' ? e.code : 'error', e.message);
  }
  const fallback: Record<number, string> = {
    401: 'The API key was not accepted.',
    403: 'This API key may not do that.',
    404: 'Not found. It may have been deleted.',
    413: 'The request is too large.',
    429: 'Too many requests. Wait a moment and try again.',
    502: 'The server is unreachable right now (bad gateway).',
    503: 'The service is unavailable right now. Try again shortly.',
  };
  return new ApiError(status, 'error', fallback[status] ?? `The request failed (HTTP ${status}).`);
}

/** Readable text for anything thrown. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

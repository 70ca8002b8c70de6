// Shapes of the /v1 API as the dashboard uses them.

export interface Workspace {
  id: string;
  /** Not every server version sends a name; the id stands in for it. */
  name?: string;
  retention_seconds: number;
  max_attempts?: number;
}

export interface EventType {
  name: string;
  description: string;
  schema: Record<string, unknown>;
  example: Record<string, unknown>;
}

export type WebhookStatus = 'enabled' | 'disabled';

export interface WebhookStats {
  attempts_24h: number;
  succeeded_24h: number;
  success_rate_24h: number | null;
  last_attempt_at: string | null;
  last_attempt_ok: boolean | null;
}

export interface Webhook {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  status: WebhookStatus;
  disabled_reason: string | null;
  /** When deliveries started failing in a row (newer servers only). */
  failing_since?: string | null;
  consecutive_failures?: number;
  created_at: string;
  updated_at: string;
  stats?: WebhookStats;
}

export interface CreatedWebhook extends Webhook {
  secret: string;
}

export type Failure = 'timeout' | 'connection' | 'status' | 'blocked_address';

export interface TestResult {
  delivery_id: string;
  event_id: string;
  ok: boolean;
  status_code: number | null;
  duration_ms: number;
  response_headers: Record<string, string> | null;
  response_body: string | null;
  error: string | null;
  failure: Failure | null;
}

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

export interface Delivery {
  id: string;
  event_id: string;
  webhook_id: string;
  event: string;
  status: DeliveryStatus;
  attempts: number;
  max_attempts: number;
  next_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  test: boolean;
  created_at: string;
  updated_at: string;
}

export interface Attempt {
  id: string;
  number: number;
  started_at: string;
  duration_ms: number | null;
  ok: boolean;
  failure: Failure | null;
  error: string | null;
  request: { url: string; headers: Record<string, string>; body: string | null };
  response: { status: number; headers: Record<string, string>; body: string | null; body_truncated: boolean } | null;
}

export interface DeliveryDetail extends Omit<Delivery, 'attempts'> {
  /** The exact body sent; null once it has been purged. */
  payload: string | null;
  /** The list endpoint gives a count here; the detail endpoint gives the attempts themselves. */
  attempts: Attempt[];
}

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export interface StatsBucket {
  start: string;
  succeeded: number;
  failed: number;
  avg_latency_ms: number | null;
  p95_latency_ms: number | null;
}

export type StatsWindow = '24h' | '7d';

export interface Stats {
  window: StatsWindow;
  bucket_ms: number;
  buckets: StatsBucket[];
}

/**
 * SQLite migrations, applied in order at start-up; `schema_migrations` remembers how far a
 * database has come. Append new steps, never edit old ones.
 */
export const SQLITE_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE workspaces (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    prefix TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
  );
  CREATE TABLE endpoints (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    description TEXT NOT NULL,
    events TEXT NOT NULL,
    status TEXT NOT NULL,
    disabled_reason TEXT,
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_secret_expires_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX endpoints_workspace ON endpoints(workspace_id, id);
  CREATE TABLE events (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    fanout INTEGER NOT NULL,
    is_test INTEGER NOT NULL,
    idempotency_key TEXT,
    request_hash TEXT
  );
  CREATE UNIQUE INDEX events_idempotency ON events(workspace_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
  CREATE INDEX events_created ON events(created_at);
  CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    event_id TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    endpoint_id TEXT NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    next_attempt_at INTEGER,
    lease_owner TEXT,
    lease_until INTEGER,
    last_status_code INTEGER,
    last_error TEXT,
    is_test INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE status = 'pending';
  CREATE INDEX deliveries_endpoint ON deliveries(endpoint_id, id);
  CREATE INDEX deliveries_event ON deliveries(event_id);
  CREATE INDEX deliveries_ended ON deliveries(updated_at) WHERE status <> 'pending';
  CREATE TABLE attempts (
    id TEXT PRIMARY KEY,
    delivery_id TEXT NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
    workspace_id TEXT NOT NULL,
    endpoint_id TEXT NOT NULL,
    number INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    ok INTEGER NOT NULL,
    failure TEXT,
    request_url TEXT NOT NULL,
    request_headers TEXT NOT NULL,
    response_status INTEGER,
    response_headers TEXT,
    response_body TEXT,
    response_body_truncated INTEGER NOT NULL,
    error TEXT
  );
  CREATE INDEX attempts_delivery ON attempts(delivery_id, number);
  CREATE INDEX attempts_endpoint_time ON attempts(endpoint_id, started_at);
  `,
  `
  ALTER TABLE endpoints ADD COLUMN max_concurrency INTEGER;
  ALTER TABLE endpoints ADD COLUMN rate_limit INTEGER;
  ALTER TABLE endpoints ADD COLUMN consecutive_failures INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE endpoints ADD COLUMN failing_since INTEGER;
  CREATE INDEX api_keys_workspace ON api_keys(workspace_id);
  `,
];

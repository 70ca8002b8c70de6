/**
 * PostgreSQL migrations, applied in order at start-up under an advisory lock; `schema_migrations`
 * remembers how far a database has come. Append new steps, never edit old ones.
 *
 * The tables mirror the SQLite schema column for column. Differences, and why:
 * - times are BIGINT (unix ms does not fit in INTEGER);
 * - flags are BOOLEAN;
 * - ids are TEXT COLLATE "C", so ordering and `id < cursor` compare bytes exactly as SQLite does,
 *   whatever the database's default collation (cursor pagination relies on it);
 * - JSON columns stay TEXT: nothing queries inside them, and JSONB would reject a "\u0000" escape
 *   and reorder keys. The event payload must be TEXT in any case: it is the exact signed bytes.
 */

/** Key of the session advisory lock held while migrating, so nodes starting together do not race. */
export const MIGRATION_LOCK_KEY = 7_329_610_042; // arbitrary, but fixed forever

export const POSTGRES_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE workspaces (
    id TEXT COLLATE "C" PRIMARY KEY,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
  );
  CREATE TABLE api_keys (
    id TEXT COLLATE "C" PRIMARY KEY,
    workspace_id TEXT COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    prefix TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
  );
  CREATE TABLE endpoints (
    id TEXT COLLATE "C" PRIMARY KEY,
    workspace_id TEXT COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    description TEXT NOT NULL,
    events TEXT NOT NULL,
    status TEXT NOT NULL,
    disabled_reason TEXT,
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_secret_expires_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
  );
  CREATE INDEX endpoints_workspace ON endpoints(workspace_id, id);
  CREATE TABLE events (
    id TEXT COLLATE "C" PRIMARY KEY,
    workspace_id TEXT COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    fanout INTEGER NOT NULL,
    is_test BOOLEAN NOT NULL,
    idempotency_key TEXT,
    request_hash TEXT
  );
  CREATE UNIQUE INDEX events_idempotency ON events(workspace_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
  CREATE INDEX events_created ON events(created_at);
  CREATE TABLE deliveries (
    id TEXT COLLATE "C" PRIMARY KEY,
    workspace_id TEXT COLLATE "C" NOT NULL,
    event_id TEXT COLLATE "C" NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    endpoint_id TEXT COLLATE "C" NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    next_attempt_at BIGINT,
    lease_owner TEXT,
    lease_until BIGINT,
    last_status_code INTEGER,
    last_error TEXT,
    is_test BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
  );
  CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE status = 'pending';
  CREATE INDEX deliveries_endpoint ON deliveries(endpoint_id, id);
  CREATE INDEX deliveries_event ON deliveries(event_id);
  CREATE INDEX deliveries_ended ON deliveries(updated_at) WHERE status <> 'pending';
  CREATE TABLE attempts (
    id TEXT COLLATE "C" PRIMARY KEY,
    delivery_id TEXT COLLATE "C" NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
    workspace_id TEXT COLLATE "C" NOT NULL,
    endpoint_id TEXT COLLATE "C" NOT NULL,
    number INTEGER NOT NULL,
    started_at BIGINT NOT NULL,
    duration_ms INTEGER NOT NULL,
    ok BOOLEAN NOT NULL,
    failure TEXT,
    request_url TEXT NOT NULL,
    request_headers TEXT NOT NULL,
    response_status INTEGER,
    response_headers TEXT,
    response_body TEXT,
    response_body_truncated BOOLEAN NOT NULL,
    error TEXT
  );
  CREATE INDEX attempts_delivery ON attempts(delivery_id, number);
  CREATE INDEX attempts_endpoint_time ON attempts(endpoint_id, started_at);
  `,
  `
  ALTER TABLE endpoints ADD COLUMN max_concurrency INTEGER;
  ALTER TABLE endpoints ADD COLUMN rate_limit INTEGER;
  ALTER TABLE endpoints ADD COLUMN consecutive_failures INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE endpoints ADD COLUMN failing_since BIGINT;
  CREATE INDEX api_keys_workspace ON api_keys(workspace_id);
  `,
];

/**
 * Every setting the service reads, in one typed table: name, environment variable, default and
 * description. `loadConfig` reads the environment once at start-up and fails fast, naming the
 * variable, when a value is malformed. docs/configuration.md is generated from this table
 * (`npm run docs:config`) and a test keeps it in step.
 */

type Parser<T> = (raw: string) => T;

interface Setting<T> {
  env: string;
  description: string;
  default: T;
  parse: Parser<T>;
}

const int =
  (min: number, max = Number.MAX_SAFE_INTEGER): Parser<number> =>
  (raw) => {
    const n = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new Error(`expected a whole number from ${min} to ${max}, got "${raw}"`);
    }
    return n;
  };

const bool: Parser<boolean> = (raw) => {
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new Error(`expected true or false, got "${raw}"`);
};

const str: Parser<string> = (raw) => raw;

const oneOf =
  <T extends string>(...values: T[]): Parser<T> =>
  (raw) => {
    if (!(values as string[]).includes(raw)) throw new Error(`expected one of ${values.join(', ')}, got "${raw}"`);
    return raw as T;
  };

function setting<T>(env: string, defaultValue: T, parse: Parser<T>, description: string): Setting<T> {
  return { env, default: defaultValue, parse, description };
}

export const SETTINGS = {
  port: setting('PORT', 8080, int(0, 65535), 'TCP port the HTTP API and dashboard listen on.'),
  host: setting('HOST', '127.0.0.1', str, 'Address the HTTP server binds to; 0.0.0.0 (or ::) serves other machines too.'),
  dataDir: setting('SOCIALFLOW_DATA_DIR', './data', str, 'Folder of the embedded SQLite database (used when DATABASE_URL is unset).'),
  databaseUrl: setting('DATABASE_URL', '', str, 'postgres://… selects the PostgreSQL store; empty means embedded SQLite.'),
  sqliteSynchronous: setting(
    'SOCIALFLOW_SQLITE_SYNCHRONOUS',
    'NORMAL' as 'OFF' | 'NORMAL' | 'FULL',
    oneOf('OFF', 'NORMAL', 'FULL'),
    'SQLite synchronous mode. NORMAL (WAL) survives a killed process; FULL also survives power loss.',
  ),
  sqliteCacheMb: setting(
    'SOCIALFLOW_SQLITE_CACHE_MB',
    32,
    int(1, 65536),
    'Pages of the SQLite database kept in memory, in MB; the hot indexes of the queue should fit.',
  ),
  pgPoolSize: setting('SOCIALFLOW_PG_POOL_SIZE', 10, int(1, 1000), 'Connections in the PostgreSQL pool of each node.'),
  pgStatementTimeoutMs: setting('SOCIALFLOW_PG_STATEMENT_TIMEOUT_MS', 30000, int(0), 'PostgreSQL statement_timeout for every connection (0 = none).'),
  bootstrapKey: setting(
    'SOCIALFLOW_BOOTSTRAP_KEY',
    '',
    str,
    'Makes sure a workspace with exactly this API key exists at start-up (for scripts and tests).',
  ),
  maxAttempts: setting('SOCIALFLOW_MAX_ATTEMPTS', 3, int(1, 100), 'Delivery attempts in all, the first one included.'),
  retryBaseMs: setting('SOCIALFLOW_RETRY_BASE_MS', 30000, int(1), 'Base delay of the exponential backoff between attempts.'),
  retryMaxDelayMs: setting('SOCIALFLOW_RETRY_MAX_DELAY_MS', 3600000, int(1), 'Longest wait between two attempts.'),
  maxRetryAfterMs: setting(
    'SOCIALFLOW_MAX_RETRY_AFTER_MS',
    3600000,
    int(0),
    "Upper bound on a receiver's Retry-After (on 429/503) used as the next wait.",
  ),
  requestTimeoutMs: setting('SOCIALFLOW_REQUEST_TIMEOUT_MS', 15000, int(1), 'Deadline of one delivery attempt, connection to last byte.'),
  responseBodyLimit: setting(
    'SOCIALFLOW_RESPONSE_BODY_LIMIT',
    65536,
    int(0),
    'Bytes of a response body kept in the log; reading stops there.',
  ),
  concurrency: setting('SOCIALFLOW_CONCURRENCY', 64, int(1, 10000), 'Delivery attempts in flight at once, per worker node.'),
  endpointConcurrency: setting(
    'SOCIALFLOW_ENDPOINT_CONCURRENCY',
    10,
    int(1, 10000),
    'Attempts in flight to one endpoint at once, per worker node (an endpoint may set its own max_concurrency).',
  ),
  autoDisableAfterMs: setting(
    'SOCIALFLOW_AUTO_DISABLE_AFTER_MS',
    5 * 24 * 3600_000,
    int(1),
    'An endpoint whose attempts have all failed for this long (default 5 days)…',
  ),
  autoDisableMinFailures: setting(
    'SOCIALFLOW_AUTO_DISABLE_MIN_FAILURES',
    10,
    int(1),
    '…and whose last this-many deliveries all ended failed is disabled, with the reason recorded.',
  ),
  secretGraceMs: setting(
    'SOCIALFLOW_SECRET_GRACE_MS',
    24 * 3600_000,
    int(0),
    'After a secret rotation, how long deliveries are signed with the old secret too.',
  ),
  apiRateLimit: setting(
    'SOCIALFLOW_API_RATE_LIMIT',
    1000,
    int(0),
    'Requests per second one API key may make to one node; 0 turns the limit off.',
  ),
  leaseMarginMs: setting(
    'SOCIALFLOW_LEASE_MARGIN_MS',
    10000,
    int(0),
    'Added to the request timeout to get the lease of a claimed delivery; a dead worker’s claims return after it.',
  ),
  pollIntervalMs: setting('SOCIALFLOW_POLL_INTERVAL_MS', 1000, int(10), 'Longest a worker sleeps before looking for due work again.'),
  logRetentionSeconds: setting(
    'SOCIALFLOW_LOG_RETENTION_SECONDS',
    604800,
    int(1),
    'How long ended deliveries, their attempts and events are kept (default 7 days).',
  ),
  purgeIntervalMs: setting('SOCIALFLOW_PURGE_INTERVAL_MS', 60000, int(100), 'How often the retention purge runs.'),
  maxBodyBytes: setting('SOCIALFLOW_MAX_BODY_BYTES', 262144, int(1024), 'Largest accepted request body (events included).'),
  shutdownGraceMs: setting('SOCIALFLOW_SHUTDOWN_GRACE_MS', 10000, int(0), 'On SIGTERM, how long in-flight attempts may take to finish.'),
  allowPrivateTargets: setting(
    'SOCIALFLOW_ALLOW_PRIVATE_TARGETS',
    false,
    bool,
    'Let deliveries reach loopback and private addresses. Only for local development and tests.',
  ),
  allowedTargets: setting(
    'SOCIALFLOW_ALLOWED_TARGETS',
    [] as string[],
    (raw) => raw.split(',').map((s) => s.trim()).filter(Boolean),
    'Comma-separated CIDRs deliveries may reach even though they are private (e.g. 10.1.0.0/16).',
  ),
  logLevel: setting('LOG_LEVEL', 'info', oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'), 'pino log level.'),
} as const;

type Settings = typeof SETTINGS;
export type Config = { [K in keyof Settings]: Settings[K]['default'] };

export class ConfigError extends Error {}

/** Read every setting from `env`; throws ConfigError naming each bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const config: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(SETTINGS) as [string, Setting<unknown>][]) {
    const raw = env[s.env];
    if (raw === undefined || raw === '') {
      config[key] = s.default;
      continue;
    }
    try {
      config[key] = s.parse(raw);
    } catch (err) {
      problems.push(`${s.env}: ${(err as Error).message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  return config as Config;
}

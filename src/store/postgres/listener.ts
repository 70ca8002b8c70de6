/**
 * Cross-node wake-ups: one dedicated connection (outside the pool, which would hand it to other
 * queries) LISTENs on the work channel; writers pg_notify inside their transactions, so a
 * notification arrives only once its rows are committed and visible.
 *
 * Notifications sent while this connection is down are lost, so after every (re)connect the
 * listeners are called once anyway; workers also poll, so a missed wake-up only costs latency.
 */
import pg from 'pg';

/**
 * Where the store reports trouble it handles itself (a lost LISTEN connection, a failed idle
 * connection). Shaped like pino, so the service's logger fits as is.
 */
export interface StoreLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export const silentLogger: StoreLogger = { info() {}, warn() {}, error() {} };

export const WORK_CHANNEL = 'socialflow_work';
/** What writers call, inside their transaction, when they made work due; it goes out on commit. */
export const NOTIFY_WORK_CALL = `pg_notify('${WORK_CHANNEL}', '')`;
export const NOTIFY_WORK_SQL = `SELECT ${NOTIFY_WORK_CALL}`;

const MIN_RETRY_MS = 250;
const MAX_RETRY_MS = 30_000;

export class WorkListener {
  private readonly listeners: (() => void)[] = [];
  private client: pg.Client | undefined;
  private started = false;
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Consecutive failed connections; drives the backoff and keeps the log quiet. */
  private failures = 0;

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly log: StoreLogger,
  ) {}

  /** Nodes that never ask for wake-ups (API only) never open the extra connection. */
  add(listener: () => void): void {
    if (this.closed) return;
    this.listeners.push(listener);
    if (!this.started) {
      this.started = true;
      void this.connect();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.length = 0;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    if (client) await client.end().catch(() => undefined);
  }

  private wake(): void {
    for (const listener of this.listeners) {
      try {
        listener();
      } catch (err) {
        this.log.error({ err }, 'A work listener threw.');
      }
    }
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client(this.config);
    this.client = client;
    client.on('notification', (message) => {
      if (message.channel === WORK_CHANNEL) this.wake();
    });
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${WORK_CHANNEL}`);
    } catch (err) {
      this.lost(client, err);
      return;
    }
    if (this.client !== client) return; // closed, or lost while connecting
    if (this.failures > 0) this.log.info({}, 'PostgreSQL LISTEN connection restored.');
    this.failures = 0;
    this.wake();
  }

  private lost(client: pg.Client, err?: unknown): void {
    if (this.client !== client) return; // already handled, or closed on purpose
    this.client = undefined;
    client.on('error', () => undefined); // a late error from a dead client must not crash the process
    void client.end().catch(() => undefined);
    if (this.closed) return;
    this.failures++;
    const delay = Math.min(MAX_RETRY_MS, MIN_RETRY_MS * 2 ** Math.min(this.failures - 1, 16));
    // First failure, then every tenth: an outage logs a handful of lines, not one per retry.
    if (this.failures === 1) this.log.warn({ err }, 'PostgreSQL LISTEN connection lost; reconnecting.');
    else if (this.failures % 10 === 0) this.log.warn({ err }, `PostgreSQL LISTEN still failing after ${this.failures} tries.`);
    this.retryTimer = setTimeout(() => void this.connect(), delay);
    // The pool and the service keep the process alive; a pending retry alone should not.
    this.retryTimer.unref();
  }
}

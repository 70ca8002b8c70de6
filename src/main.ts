/**
 * The entry point and the only place that wires things together: read the config, open the
 * store, and start the roles this node plays. `serve` runs the HTTP API and the delivery worker
 * (`--role api` or `--role worker` for one of them); other commands are in cli/.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { pino, type Logger } from 'pino';
import { runCommand } from './cli/index.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { ApiError } from './domain/errors.js';
import { checkEndpointHost, createGuardedAgent, isBlockedAddressError, type AddressPolicy } from './delivery/address-guard.js';
import { createHttpClient } from './delivery/http-client.js';
import { DeliveryWorker } from './delivery/worker.js';
import { retryPolicyOf, type ServiceContext } from './services/context.js';
import { createWorkspace, ensureBootstrapKey } from './services/keys.js';
import { purgeExpired } from './services/retention.js';
import { openStore } from './store/open.js';
import type { Store } from './store/types.js';
import { ROOT, VERSION } from './version.js';

export type Role = 'all' | 'api' | 'worker';

async function ensureWorkspace(store: Store, config: Config, logger: Logger): Promise<void> {
  const now = Date.now();
  if (config.bootstrapKey) {
    const { workspaceId, created } = await ensureBootstrapKey(store, config.bootstrapKey, now);
    if (created) logger.info({ workspaceId }, 'created the workspace for SOCIALFLOW_BOOTSTRAP_KEY');
    return;
  }
  if ((await store.countWorkspaces()) > 0) return;
  const { workspaceId, key } = await createWorkspace(store, 'Default workspace', now);
  // Printed once, on purpose: the store keeps only a hash, so this is the only time it can be seen.
  process.stdout.write(
    `\nCreated workspace ${workspaceId}. Its API key (shown only now, keep it safe):\n\n  ${key}\n\n`,
  );
}

export async function serve(config: Config, role: Role): Promise<void> {
  // Every delivery and simulator request goes through the address guard (SSRF protection).
  const addressPolicy: AddressPolicy = { allowPrivate: config.allowPrivateTargets, allowList: config.allowedTargets };
  try {
    checkEndpointHost(new URL('http://127.0.0.1/'), addressPolicy); // parses the allow-list now, not at the first delivery
  } catch (err) {
    throw new ConfigError(`Invalid configuration:\n  SOCIALFLOW_ALLOWED_TARGETS: ${(err as Error).message}`);
  }
  const logger = pino({ level: config.logLevel, redact: ['req.headers.authorization'] });
  const store = await openStore(config, logger);
  await ensureWorkspace(store, config, logger);

  const dispatcher = createGuardedAgent(addressPolicy, { keepAliveTimeout: 10_000, connect: { timeout: config.requestTimeoutMs } });
  const send = createHttpClient({
    timeoutMs: config.requestTimeoutMs,
    bodyLimit: config.responseBodyLimit,
    dispatcher,
    isBlockedError: isBlockedAddressError,
  });
  const checkUrl = (url: URL) => {
    const check = checkEndpointHost(url, addressPolicy);
    if (!check.ok) throw new ApiError('blocked_url', check.reason);
  };
  const policy = retryPolicyOf(config);

  let worker: DeliveryWorker | undefined;
  let purgeTimer: NodeJS.Timeout | undefined;
  if (role !== 'api') {
    worker = new DeliveryWorker({
      workerId: `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
      queue: store,
      send,
      policy,
      concurrency: config.concurrency,
      perEndpointConcurrency: config.endpointConcurrency,
      autoDisable: { failingForMs: config.autoDisableAfterMs, minFailedDeliveries: config.autoDisableMinFailures },
      leaseMs: config.requestTimeoutMs + config.leaseMarginMs,
      pollIntervalMs: config.pollIntervalMs,
      logger,
    });
    store.onWork(() => worker!.wake());
    worker.start();
    const purge = () =>
      purgeExpired(store, Date.now() - config.logRetentionSeconds * 1000).then(
        (n) => n > 0 && logger.info({ deliveries: n }, 'purged deliveries past the retention window'),
        (err: unknown) => logger.error({ err }, 'retention purge failed'),
      );
    purgeTimer = setInterval(purge, config.purgeIntervalMs);
    void purge();
  }
  // With a worker on this node, publishes hand their fresh deliveries straight to it.
  const ctx: ServiceContext = { store, config, policy, send, checkUrl, now: Date.now, handoff: worker };

  let app: Awaited<ReturnType<typeof import('./api/app.js').buildApp>> | undefined;
  if (role !== 'worker') {
    // Loaded only by nodes that serve HTTP, so worker nodes start faster and carry less.
    const { buildApp } = await import('./api/app.js');
    app = await buildApp({ ctx, logger, webRoot: `${ROOT}web/dist`, secretGraceMs: config.secretGraceMs, version: VERSION });
    await app.listen({ port: config.port, host: config.host });
  }
  logger.info({ role, store: store.kind, port: app ? config.port : undefined }, 'Social Flow Webhooks is running');

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: no new requests, finishing attempts in flight');
    clearInterval(purgeTimer);
    await app?.close();
    await worker?.stop(config.shutdownGraceMs);
    await store.close();
    await dispatcher.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

async function main(argv: string[]): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const [command = 'serve', ...rest] = argv;
  if (command === 'serve') {
    const roleFlag = rest.indexOf('--role');
    const role = (roleFlag >= 0 ? rest[roleFlag + 1] : 'all') as Role;
    if (!['all', 'api', 'worker'].includes(role)) {
      process.stderr.write(`--role must be api, worker or all, not "${role}"\n`);
      process.exit(2);
    }
    await serve(config, role).catch((err: unknown) => {
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    });
    return;
  }
  process.exitCode = await runCommand(command, rest, config);
}

await main(process.argv.slice(2));

/**
 * Starting the real server as a child process, the way an operator runs it, on a fresh store:
 * a temporary SQLite folder, or a fresh PostgreSQL database when the suite runs with
 * TEST_STORE=postgres. The child can be stopped politely (SIGTERM) or killed (SIGKILL) and
 * started again on the same store.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase } from './postgres.js';
import { waitFor } from './wait.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const TEST_STORE = process.env.TEST_STORE === 'postgres' ? 'postgres' : 'sqlite';

/** Settings every test server gets: private targets allowed (receivers are on loopback), fast retries. */
export const TEST_ENV: Record<string, string> = {
  SOCIALFLOW_ALLOW_PRIVATE_TARGETS: 'true',
  SOCIALFLOW_RETRY_BASE_MS: '100',
  SOCIALFLOW_RETRY_MAX_DELAY_MS: '2000',
  SOCIALFLOW_REQUEST_TIMEOUT_MS: '3000',
  SOCIALFLOW_LEASE_MARGIN_MS: '1000',
  SOCIALFLOW_POLL_INTERVAL_MS: '200',
  LOG_LEVEL: 'warn',
};

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface StoreHandle {
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

/** A fresh, empty store of the kind under test. */
export async function freshStore(): Promise<StoreHandle> {
  if (TEST_STORE === 'postgres') {
    const db = await createTestDatabase();
    if (!db) throw new Error('TEST_STORE=postgres but no PostgreSQL server is reachable');
    return { env: { DATABASE_URL: db.url }, cleanup: () => db.drop() };
  }
  const dir = mkdtempSync(join(tmpdir(), 'sf-test-'));
  return { env: { SOCIALFLOW_DATA_DIR: dir }, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}

export interface NodeProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
}

/**
 * How to run the server: from the TypeScript sources through tsx (always current), or, when the
 * suite runner has just compiled them (TEST_SERVER_ENTRY=dist), from dist/, which starts several
 * times faster; the suite starts many servers.
 */
const ENTRY = process.env.TEST_SERVER_ENTRY === 'dist' ? [join(ROOT, 'dist/src/main.js')] : ['--import', 'tsx', join(ROOT, 'src/main.ts')];

/** Spawn `socialflow serve` with the given environment (no waiting). */
export function spawnNode(env: Record<string, string>, args: string[] = []): NodeProcess {
  const child = spawn(process.execPath, [...ENTRY, 'serve', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...TEST_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return { child, output: () => output, exited };
}

export interface TestServer {
  url: string;
  key: string;
  env: Record<string, string>;
  node: NodeProcess;
  /** Authenticated JSON request to the API. */
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
  /** SIGTERM and wait; resolves with the exit code. */
  stop(): Promise<number | string>;
  /** SIGKILL and wait. */
  kill(): Promise<void>;
  /** Start again on the same store and port (after stop or kill). */
  restart(): Promise<void>;
  /** Stop the server and drop its store. */
  close(): Promise<void>;
}

export async function waitHealthy(url: string, node: NodeProcess): Promise<void> {
  let healthy = false;
  // A server that exits while starting fails the wait at once, with its output.
  const exitedEarly = node.exited.then(() => {
    if (!healthy) throw new Error(`server exited early:\n${node.output()}`);
  });
  exitedEarly.catch(() => undefined); // an exit after a timed-out wait is reported by the wait
  await Promise.race([
    waitFor(
      async () => {
        const res = await fetch(`${url}/healthz`);
        // Only this server's answer counts: another process (a receiver of a test running beside
        // this one) may hold the port, in which case this server is about to exit with EADDRINUSE.
        const body = res.ok ? ((await res.json().catch(() => undefined)) as { status?: string; store?: string } | undefined) : undefined;
        return body?.status === 'ok' && typeof body.store === 'string';
      },
      { timeoutMs: 30_000, what: 'the server to answer /healthz' },
    ),
    exitedEarly,
  ]);
  healthy = true;
}

export async function startServer(extraEnv: Record<string, string> = {}): Promise<TestServer> {
  const store = await freshStore();
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOn(await freePort(), store, extraEnv);
    } catch (err) {
      // A port free a moment ago can be taken before the server binds it (outgoing connections
      // draw their local ports from the same range): try another.
      if (attempt < 3 && String(err).includes('EADDRINUSE')) continue;
      await store.cleanup();
      throw err;
    }
  }
}

async function startOn(port: number, store: StoreHandle, extraEnv: Record<string, string>): Promise<TestServer> {
  const key = `sfk_test_${randomBytes(12).toString('hex')}`;
  const env = { ...store.env, PORT: String(port), HOST: '127.0.0.1', SOCIALFLOW_BOOTSTRAP_KEY: key, ...extraEnv };
  const url = `http://127.0.0.1:${port}`;
  const server: TestServer = {
    url,
    key,
    env,
    node: spawnNode(env),
    async api(method, path, body, headers = {}) {
      const res = await fetch(url + path, {
        method,
        headers: {
          authorization: `Bearer ${key}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON: keep the text
      }
      return { status: res.status, body: parsed, headers: res.headers };
    },
    async stop() {
      server.node.child.kill('SIGTERM');
      return server.node.exited;
    },
    async kill() {
      server.node.child.kill('SIGKILL');
      await server.node.exited;
    },
    async restart() {
      server.node = spawnNode(env);
      await waitHealthy(url, server.node);
    },
    async close() {
      if (server.node.child.exitCode === null && server.node.child.signalCode === null) {
        server.node.child.kill('SIGKILL');
        await server.node.exited;
      }
      await store.cleanup();
    },
  };
  try {
    await waitHealthy(url, server.node);
  } catch (err) {
    server.node.child.kill('SIGKILL');
    await server.node.exited;
    throw err;
  }
  return server;
}

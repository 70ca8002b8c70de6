/**
 * Receivers that misbehave in every way a real one can: silent, stalled, endless, resetting,
 * not speaking HTTP, redirecting inwards, or slow but in time. Each attempt ends with the right
 * typed failure and a plain-words log entry, the process stays healthy and small, and a healthy
 * endpoint keeps being served while the hostile ones hold their connections.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { EVENT_TYPES } from '../../src/domain/catalog.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const closers: (() => void)[] = [];
let server: TestServer;
let healthy: Receiver;

function httpReceiver(handler: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void): Promise<string> {
  const s: HttpServer = createHttpServer(handler);
  closers.push(() => {
    s.closeAllConnections();
    s.close();
  });
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(s.address() as AddressInfo).port}/hook`)));
}

function tcpReceiver(onData: (socket: Socket) => void): Promise<string> {
  const sockets = new Set<Socket>();
  const s: TcpServer = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('data', () => onData(socket));
  });
  closers.push(() => {
    for (const socket of sockets) socket.destroy();
    s.close();
  });
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(s.address() as AddressInfo).port}/hook`)));
}

/** Register `url`, publish one event to it alone, and wait for the delivery's first attempt. */
async function firstAttempt(url: string, timeoutMs = 20_000) {
  const created = await server.api('POST', '/v1/webhooks', { url, events: ['plugin_triggered'] });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const published = await server.api('POST', '/v1/events', EVENT_TYPES[4]!.example);
  // Stop it from also receiving later tests' events.
  return waitFor(
    async () => {
      const list = await server.api('GET', `/v1/webhooks/${created.body.id}/deliveries`);
      const d = list.body.data.find((x: { event_id: string }) => x.event_id === published.body.id);
      if (!d || d.attempts < 1) return undefined;
      await server.api('PATCH', `/v1/webhooks/${created.body.id}`, { status: 'disabled' });
      return (await server.api('GET', `/v1/deliveries/${d.id}`)).body.attempts[0];
    },
    { timeoutMs, what: `the first attempt to ${url}` },
  );
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

before(async () => {
  // The default 15 s deadline, so the slow-but-in-time receiver is tested against the real default.
  server = await startServer({ SOCIALFLOW_REQUEST_TIMEOUT_MS: '15000', SOCIALFLOW_MAX_ATTEMPTS: '1' });
  healthy = await startReceiver();
  const res = await server.api('POST', '/v1/webhooks', { url: healthy.url, events: ['post_published'] });
  healthy.secrets = [res.body.secret];
});

after(async () => {
  for (const close of closers) close();
  await healthy.close();
  await server.close();
});

describe('hostile receivers', { concurrency: true }, () => {
  test('one that never answers: the attempt times out and is logged as a timeout', async () => {
    const url = await tcpReceiver(() => undefined);
    const attempt = await firstAttempt(url, 25_000);
    assert.equal(attempt.failure, 'timeout');
    assert.equal(attempt.response, null);
    assert.match(attempt.error, /No complete answer within 15000 ms/);
    assert.ok(attempt.duration_ms >= 14_900 && attempt.duration_ms < 17_000, `took ${attempt.duration_ms} ms`);
  });

  test('one that answers 200 after 14 s succeeds under the 15 s default', async () => {
    const url = await httpReceiver((_req, res) => setTimeout(() => res.writeHead(200).end('late but fine'), 14_000));
    const attempt = await firstAttempt(url, 25_000);
    assert.equal(attempt.ok, true);
    assert.equal(attempt.response.status, 200);
    assert.ok(attempt.duration_ms >= 14_000);
  });

  test('one that stalls mid-body times out', async () => {
    const url = await httpReceiver((_req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('only the first bytes');
    });
    const attempt = await firstAttempt(url, 25_000);
    assert.equal(attempt.ok, false);
    assert.equal(attempt.failure, 'timeout');
  });

  test('one that sends a 50 MB body: reading stops at the cap and memory stays flat', async () => {
    // Other tests' events reach this receiver too (they run at the same time), so every request
    // gets its own count of what it managed to send before the service hung up.
    const sentPerRequest: number[] = [];
    const url = await httpReceiver((_req, res) => {
      const i = sentPerRequest.push(0) - 1;
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      let closed = false;
      res.on('close', () => (closed = true));
      const pump = () => {
        while (!closed && sentPerRequest[i]! < 50 * 1024 * 1024) {
          sentPerRequest[i]! += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    const attempt = await firstAttempt(url);
    assert.equal(attempt.ok, true, attempt.error);
    assert.equal(attempt.response.body_truncated, true);
    assert.equal(attempt.response.body.length, 64 * 1024);
    // The service stopped reading at the cap and hung up: the receiver could push little more
    // than the socket buffers hold, nowhere near 50 MB.
    await waitFor(() => sentPerRequest.length > 0);
    assert.ok(sentPerRequest.every((n) => n < 16 * 1024 * 1024), `sent ${sentPerRequest.join(', ')} bytes`);
    assert.ok(rssMb(server.node.child.pid!) < 250, 'the process stays small');
  });

  test('one that resets the connection', async () => {
    const url = await tcpReceiver((socket) => socket.resetAndDestroy());
    const attempt = await firstAttempt(url);
    assert.equal(attempt.failure, 'connection');
    assert.match(attempt.error, /reset|closed the connection/);
  });

  test('one that answers with something that is not HTTP', async () => {
    const url = await tcpReceiver((socket) => socket.end('HELLO THERE, THIS IS NOT HTTP\r\n\r\n'));
    const attempt = await firstAttempt(url);
    assert.equal(attempt.failure, 'connection');
    assert.match(attempt.error, /not valid HTTP/);
  });

  test('one that redirects to the cloud metadata address: not followed, counted as a failure', async () => {
    const url = await httpReceiver((_req, res) => res.writeHead(307, { location: 'http://169.254.169.254/latest/meta-data/' }).end());
    const attempt = await firstAttempt(url);
    assert.equal(attempt.ok, false);
    assert.equal(attempt.failure, 'status');
    assert.equal(attempt.response.status, 307);
    assert.match(attempt.error, /redirects are not followed/);
  });

  test('meanwhile a healthy endpoint is served promptly, and the process stays up', async () => {
    // The hostile receivers above hold connections for up to 15 s; these must not wait for them.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const started = Date.now();
    for (let i = 0; i < 20; i++) await server.api('POST', '/v1/events', { ...EVENT_TYPES[0]!.example, post_id: `h-${i}` });
    // Well before the hostile receivers' 15 s deadlines run out.
    await waitFor(() => healthy.received.length >= 20, { timeoutMs: 10_000, what: 'the healthy endpoint to get all 20' });
    assert.ok(Date.now() - started < 10_000);
    assert.ok(healthy.received.every((r) => r.verified));
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    assert.equal(server.node.child.exitCode, null);
  });
});

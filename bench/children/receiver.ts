/**
 * The receivers: one HTTP server per endpoint of the current run, all on 127.0.0.1, in a process
 * of their own so that arrival times are not delayed by the publisher. Every request is verified
 * with the `standardwebhooks` package; only verified deliveries count. Modes per endpoint:
 *   ok    – answer 204 and record the arrival (first arrival per event gives the latency)
 *   fail  – verify, count the attempt, answer 500
 *   stall – accept the request and never answer (a receiver that hangs; builds a backlog)
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { serveRpc } from '../lib/ipc.js';
import { now } from '../lib/event.js';

export type EndpointMode = 'ok' | 'fail' | 'stall';

export interface ArmSpec {
  tag: string;
  events: number;
  modes: EndpointMode[];
}

export interface ReceiverStatus {
  unique: number;
  duplicates: number;
  invalid: number;
  stray: number;
  failAttempts: number;
  stalled: number;
  firstArrival: number;
  lastArrival: number;
}

export interface ReceiverData extends ReceiverStatus {
  /** Verified arrivals per (seq * endpoints + endpoint index), saturating at 255. */
  counts: Uint8Array;
  /** Publish-to-arrival milliseconds of the first arrival, NaN when none. */
  latency: Float64Array;
}

let spec: ArmSpec = { tag: '', events: 0, modes: [] };
let servers: Server[] = [];
let sockets = new Set<Socket>();
let verifiers: (Webhook | null)[] = [];
let counts = new Uint8Array(0);
let latency = new Float64Array(0);
let status: ReceiverStatus = blankStatus();

function blankStatus(): ReceiverStatus {
  return { unique: 0, duplicates: 0, invalid: 0, stray: 0, failAttempts: 0, stalled: 0, firstArrival: 0, lastArrival: 0 };
}

function handle(index: number, req: IncomingMessage, res: ServerResponse): void {
  const mode = spec.modes[index];
  if (mode === 'stall') {
    status.stalled++;
    req.resume();
    return; // never answered; the socket is destroyed when the run ends
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const arrival = now();
    const body = Buffer.concat(chunks).toString('utf8');
    const verifier = verifiers[index];
    let event: { agent_id?: unknown; post_id?: unknown; sent_at?: unknown };
    try {
      if (!verifier) throw new Error('no secret yet');
      event = verifier.verify(body, req.headers as Record<string, string>) as typeof event;
    } catch {
      status.invalid++;
      res.writeHead(400).end();
      return;
    }
    const seq = Number(event.post_id);
    if (event.agent_id !== spec.tag || !Number.isInteger(seq) || seq < 0 || seq >= spec.events) {
      status.stray++;
      res.writeHead(204).end();
      return;
    }
    if (mode === 'fail') {
      status.failAttempts++;
      res.writeHead(500).end();
      return;
    }
    const slot = seq * spec.modes.length + index;
    const seen = counts[slot] ?? 0;
    if (seen < 255) counts[slot] = seen + 1;
    if (seen === 0) {
      latency[slot] = arrival - Number(event.sent_at);
      status.unique++;
      if (status.firstArrival === 0) status.firstArrival = arrival;
      status.lastArrival = arrival;
    } else status.duplicates++;
    res.writeHead(204).end();
  });
}

async function disarm(): Promise<void> {
  for (const s of sockets) s.destroy();
  sockets = new Set();
  await Promise.all(
    servers.map(
      (s) =>
        new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        }),
    ),
  );
  servers = [];
}

async function arm(next: ArmSpec): Promise<{ urls: string[] }> {
  await disarm();
  spec = next;
  verifiers = next.modes.map(() => null);
  counts = new Uint8Array(next.events * next.modes.length);
  latency = new Float64Array(next.events * next.modes.length).fill(Number.NaN);
  status = blankStatus();
  const urls: string[] = [];
  for (let i = 0; i < next.modes.length; i++) {
    const server = createServer((req, res) => handle(i, req, res));
    server.keepAliveTimeout = 60_000;
    server.on('connection', (s: Socket) => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const addr = server.address();
    if (typeof addr !== 'object' || !addr) throw new Error('no address');
    servers.push(server);
    urls.push(`http://127.0.0.1:${addr.port}/hooks/${next.tag}/${i}`);
  }
  return { urls };
}

/** Start counting afresh under a new tag, keeping the servers, connections and secrets (after a warm-up). */
function reset(next: { tag: string; events: number }): null {
  spec = { ...spec, tag: next.tag, events: next.events };
  counts = new Uint8Array(next.events * spec.modes.length);
  latency = new Float64Array(next.events * spec.modes.length).fill(Number.NaN);
  status = blankStatus();
  return null;
}

serveRpc({
  arm: (s: ArmSpec) => arm(s),
  reset: (next: { tag: string; events: number }) => reset(next),
  secrets: (secrets: string[]) => {
    verifiers = secrets.map((s) => new Webhook(s));
    return null;
  },
  status: () => status,
  collect: (): ReceiverData => ({ ...status, counts, latency }),
  disarm: () => disarm(),
});
process.send?.({ event: 'ready' });

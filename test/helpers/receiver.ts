/**
 * A real HTTP receiver on loopback that verifies every delivery with the `standardwebhooks`
 * package, as a developer's own endpoint would, and records what it got. Its behaviour per
 * request is programmable, so tests can make it fail, stall or misbehave.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  headers: IncomingMessage['headers'];
  body: string;
  /** Parsed body when the signature verified against the receiver's secret(s); undefined otherwise. */
  verified: unknown;
  at: number;
}

/** What to do with the n-th request (1-based); answer 200 "ok" by default. */
export type Behaviour = (req: IncomingMessage, res: ServerResponse, n: number, body: string) => void;

export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  /** Secrets signatures are checked against; set once the endpoint is registered. */
  secrets: string[];
  behave(behaviour: Behaviour): void;
  close(): Promise<void>;
}

export const answer =
  (status: number, body = '', headers: Record<string, string> = {}): Behaviour =>
  (_req, res) => {
    res.writeHead(status, headers).end(body);
  };

export async function startReceiver(path = '/hook'): Promise<Receiver> {
  let behaviour: Behaviour = answer(200, 'ok');
  let count = 0;
  const received: Received[] = [];
  const receiver = { received, secrets: [] as string[] } as unknown as Receiver;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let verified: unknown;
      for (const secret of receiver.secrets) {
        try {
          verified = new Webhook(secret).verify(body, req.headers as Record<string, string>);
          break;
        } catch {
          // try the next secret
        }
      }
      received.push({ headers: req.headers, body, verified, at: Date.now() });
      behaviour(req, res, ++count, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}${path}`,
    port,
    behave(b: Behaviour) {
      behaviour = b;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

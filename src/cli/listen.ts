/**
 * `socialflow listen`: a local receiver for trying the service out. It prints every delivery it
 * gets, says whether the signature verifies (when given the endpoint's secret), and answers 200
 * (or the status asked for with --status, to watch retries happen).
 */
import { createServer } from 'node:http';
import { verify } from '../signing/index.js';

export interface ListenOptions {
  port: number;
  secret?: string;
  status: number;
}

export function listen(options: ListenOptions): Promise<void> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const check = options.secret ? verify(options.secret, req.headers, body) : undefined;
      const signature = !check ? 'signature not checked (pass --secret)' : check.ok ? 'signature OK' : `SIGNATURE INVALID: ${check.reason}`;
      process.stdout.write(
        `${new Date().toISOString()} ${req.method} ${req.url} webhook-id=${String(req.headers['webhook-id'])} ${signature}\n${body}\n\n`,
      );
      // Like a real receiver, refuse what does not verify: the delivery then shows as failed.
      if (check && !check.ok) return void res.writeHead(400, { 'content-type': 'text/plain' }).end(`signature invalid: ${check.reason}`);
      res.writeHead(options.status, { 'content-type': 'text/plain' }).end(options.status < 300 ? 'ok' : 'failing on purpose');
    });
  });
  return new Promise((resolve) =>
    server.listen(options.port, '127.0.0.1', () => {
      process.stdout.write(`Listening for webhooks on http://127.0.0.1:${options.port}/ (Ctrl+C to stop)\n`);
      resolve();
    }),
  );
}

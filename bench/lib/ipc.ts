/**
 * Request/response over a child's IPC channel. The parent calls `rpc.call(type, payload)`; the
 * child answers with the handler registered under that type. Messages use structured-clone
 * serialisation (see spawnNode), so typed arrays cross the channel intact.
 */
import type { ChildProcess } from 'node:child_process';

interface Request {
  rpc: number;
  type: string;
  payload: unknown;
}
interface Response {
  rpc: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

export class Rpc {
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(private readonly child: ChildProcess) {
    child.on('message', (m: unknown) => {
      const msg = m as Response;
      if (typeof msg !== 'object' || msg === null || typeof msg.rpc !== 'number') return;
      const w = this.waiting.get(msg.rpc);
      if (!w) return;
      this.waiting.delete(msg.rpc);
      if (msg.ok) w.resolve(msg.result);
      else w.reject(new Error(msg.error ?? 'child error'));
    });
    child.once('exit', (code, signal) => {
      for (const w of this.waiting.values()) w.reject(new Error(`child exited (${code ?? signal})`));
      this.waiting.clear();
    });
  }

  call<T>(type: string, payload: unknown = null, timeoutMs = 600_000): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      if (!this.child.connected) {
        reject(new Error(`cannot call "${type}": the child has gone`));
        return;
      }
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`no answer to "${type}" within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      // With a callback, a failed send rejects this call instead of emitting an 'error' event.
      this.child.send({ rpc: id, type, payload } satisfies Request, (err) => {
        if (!err) return;
        this.waiting.delete(id);
        clearTimeout(timer);
        reject(err);
      });
    });
  }
}

type Handler = (payload: never) => unknown;

/** In a child: answer the parent's calls. The child leaves when the channel closes. */
export function serveRpc(handlers: Record<string, Handler>): void {
  if (!process.send) throw new Error('started without an IPC channel');
  process.on('message', (m: unknown) => {
    const msg = m as Request;
    if (typeof msg !== 'object' || msg === null || typeof msg.rpc !== 'number') return;
    const handler = handlers[msg.type];
    Promise.resolve()
      .then(() => {
        if (!handler) throw new Error(`unknown call "${msg.type}"`);
        return handler(msg.payload as never);
      })
      .then(
        (result) => process.send?.({ rpc: msg.rpc, ok: true, result } satisfies Response),
        (err: unknown) => process.send?.({ rpc: msg.rpc, ok: false, error: String((err as Error)?.stack ?? err) } satisfies Response),
      );
  });
  process.on('disconnect', () => process.exit(0));
  // Leave through process.exit so that --cpu-prof can write its profile.
  process.on('SIGTERM', () => process.exit(0));
}

/** Wait for the first message of a given `event` kind from a child (e.g. "ready"). */
export function waitForEvent<T>(child: ChildProcess, event: string, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`no "${event}" from child within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (m: unknown) => {
      const msg = m as { event?: string };
      if (msg && msg.event === event) done(null, m as T);
    };
    const onExit = (code: number | null) => done(new Error(`child exited (${code}) before "${event}"`));
    function done(err: Error | null, value?: T) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(value as T);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/**
 * Publishing over HTTP, the same for every system that has a publish API: one POST per event,
 * JSON body, through an undici Pool with keep-alive and as many connections as calls in flight.
 * A publish counts as accepted on any 2xx answer.
 */
import { Pool, request } from 'undici';
import { benchEvent } from './event.js';

export interface HttpPublisher {
  task: (seq: number, sentAt: number) => Promise<boolean>;
  close: () => Promise<void>;
}

export function httpPublisher(origin: string, path: string, headers: Record<string, string>, connections: number, tag: string): HttpPublisher {
  const pool = new Pool(origin, { connections, pipelining: 1, keepAliveTimeout: 30_000 });
  const allHeaders = { 'content-type': 'application/json', ...headers };
  return {
    task: async (seq, sentAt) => {
      const res = await pool.request({ method: 'POST', path, headers: allHeaders, body: JSON.stringify(benchEvent(tag, seq, sentAt)) });
      const text = await res.body.text();
      if (res.statusCode < 200 || res.statusCode >= 300) throw new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
      return true;
    },
    close: () => pool.close(),
  };
}

/** POST JSON and return the parsed answer; throws on a non-2xx status. */
export async function postJson<T>(origin: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<T> {
  const res = await request(origin + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.body.text();
  if (res.statusCode < 200 || res.statusCode >= 300) throw new Error(`POST ${path} answered ${res.statusCode}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/**
 * The workloads and their sizes. Sizes come from a profile (full, quick, smoke) and can be
 * overridden one by one with flags (see bench/options.ts).
 *   a        N events, each to 1 endpoint (throughput)
 *   b        M events fanned out to K endpoints
 *   c        like b, but 10% of the endpoints (1 of 10) answer 500 to every attempt: shows whether
 *            retries starve the healthy endpoints (compare its delivery rate with b)
 *   d        a fixed publish rate for a fixed time, for latency
 *   backlog  N events to an endpoint that accepts requests and never answers, so nearly all of
 *            them stay queued; shows the memory a system needs for a backlog
 *   scale-N  like a, with N events; run for several N by --scaling to check cost is linear
 */
import type { EndpointMode } from './receivers.js';

export interface Sizes {
  events: number;
  fanoutEvents: number;
  fanoutEndpoints: number;
  failingEvents: number;
  failingEndpoints: number;
  rate: number;
  durationS: number;
  backlog: number;
  backlogHoldMs: number;
  scaling: number[];
}

export type Profile = 'full' | 'quick' | 'smoke';

export const PROFILES: Record<Profile, Sizes> = {
  full: {
    events: 20_000,
    fanoutEvents: 2_000,
    fanoutEndpoints: 10,
    failingEvents: 2_000,
    failingEndpoints: 10,
    rate: 500,
    durationS: 20,
    backlog: 100_000,
    backlogHoldMs: 3_000,
    scaling: [2_000, 20_000, 200_000],
  },
  quick: {
    events: 4_000,
    fanoutEvents: 400,
    fanoutEndpoints: 10,
    failingEvents: 400,
    failingEndpoints: 10,
    rate: 500,
    durationS: 4,
    backlog: 10_000,
    backlogHoldMs: 1_000,
    scaling: [1_000, 4_000, 16_000],
  },
  smoke: {
    events: 200,
    fanoutEvents: 20,
    fanoutEndpoints: 10,
    failingEvents: 20,
    failingEndpoints: 10,
    rate: 200,
    durationS: 1,
    backlog: 300,
    backlogHoldMs: 300,
    scaling: [100, 400],
  },
};

export const DEFAULT_WORKLOADS: Record<Profile, string[]> = {
  full: ['a', 'b', 'c', 'd', 'backlog'],
  quick: ['a', 'b', 'c', 'd'],
  // b is left out: c exercises the same fan-out path (plus retries); every system start costs seconds.
  smoke: ['a', 'c', 'd', 'backlog'],
};

export interface Workload {
  id: string;
  title: string;
  /** A few words for chart labels. */
  short: string;
  kind: 'delivery' | 'backlog';
  events: number;
  modes: EndpointMode[];
  rate?: number;
  /** Backlog only: how long to keep sampling memory after the last publish. */
  holdMs?: number;
}

const fmt = (n: number) => n.toLocaleString('en-US');

function endpoints(count: number, failing: number): EndpointMode[] {
  return Array.from({ length: count }, (_, i): EndpointMode => (i >= count - failing ? 'fail' : 'ok'));
}

export function buildWorkloads(s: Sizes, ids: string[]): Workload[] {
  const out: Workload[] = [];
  for (const id of ids) {
    if (id === 'a') out.push({ id, title: `(a) ${fmt(s.events)} events → 1 endpoint`, short: `a · ${fmt(s.events)} × 1 endpoint`, kind: 'delivery', events: s.events, modes: ['ok'] });
    else if (id === 'b')
      out.push({
        id,
        title: `(b) ${fmt(s.fanoutEvents)} events → ${s.fanoutEndpoints} endpoints each`,
        short: `b · ${fmt(s.fanoutEvents)} × ${s.fanoutEndpoints} endpoints`,
        kind: 'delivery',
        events: s.fanoutEvents,
        modes: endpoints(s.fanoutEndpoints, 0),
      });
    else if (id === 'c') {
      const failing = Math.max(1, Math.round(s.failingEndpoints / 10));
      out.push({
        id,
        title: `(c) ${fmt(s.failingEvents)} events → ${s.failingEndpoints} endpoints, ${failing} always answering 500`,
        short: `c · ${fmt(s.failingEvents)} × ${s.failingEndpoints}, ${failing} failing`,
        kind: 'delivery',
        events: s.failingEvents,
        modes: endpoints(s.failingEndpoints, failing),
      });
    } else if (id === 'd') {
      const events = Math.max(1, Math.round(s.rate * s.durationS));
      out.push({ id, title: `(d) ${fmt(s.rate)} events/s for ${s.durationS} s → 1 endpoint`, short: `d · ${fmt(s.rate)}/s`, kind: 'delivery', events, modes: ['ok'], rate: s.rate });
    } else if (id === 'backlog')
      out.push({
        id,
        title: `(e) backlog: ${fmt(s.backlog)} events → 1 endpoint that never answers`,
        short: `e · ${fmt(s.backlog)} queued`,
        kind: 'backlog',
        events: s.backlog,
        modes: ['stall'],
        holdMs: s.backlogHoldMs,
      });
    else if (id.startsWith('scale-')) {
      const n = Number(id.slice(6));
      if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`bad workload ${id}`);
      out.push({ id, title: `scaling: ${fmt(n)} events → 1 endpoint`, short: `scaling · ${fmt(n)} events`, kind: 'delivery', events: n, modes: ['ok'] });
    } else throw new Error(`unknown workload "${id}" (known: a, b, c, d, backlog, scale-N)`);
  }
  return out;
}

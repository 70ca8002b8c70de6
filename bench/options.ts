/** Command-line flags of `npm run bench`. */
import { parseArgs } from 'node:util';
import { DEFAULT_WORKLOADS, PROFILES, type Profile, type Sizes } from './workloads.js';

export const ALL_SYSTEMS = ['ceiling', 'bullmq', 'service', 'service-pg'] as const;

export const HELP = `Usage: npm run bench -- [flags]

Profiles (sizes of every workload; default full):
  --quick                 small sizes, under a minute
  --smoke                 tiny sizes, under a minute in all; proves the harness works
What to run:
  --systems=LIST          ${ALL_SYSTEMS.join(',')} (default: all that can run here)
  --workloads=LIST        a,b,c,d,backlog (e is backlog too; default: full a,b,c,d,backlog;
                          quick a,b,c,d; smoke a,c,d,backlog)
  --scaling               run workload a at several sizes instead (full: 2k,20k,200k;
                          quick 1k,4k,16k; smoke 100,400)
  --scaling-points=LIST   sizes for --scaling, e.g. 2000,20000
  --repeat=N              run everything N times, report medians (default 1)
  --warmup=N              events sent (and waited for) before each measured run
                          (default: full 1000, quick 300, smoke 5; 0 = none)
Sizes (override the profile):
  --events=N              (a) events to one endpoint
  --fanout-events=N       (b) events;   --fanout-endpoints=N   (b) endpoints
  --failing-events=N      (c) events;   --failing-endpoints=N  (c) endpoints, 10% failing
  --rate=N --duration=S   (d) events per second and seconds
  --backlog=N             (e) events queued behind a receiver that never answers
Tuning (same for every system):
  --publish-concurrency=N publish calls in flight (default 32)
  --delivery-concurrency=N delivery attempts in flight (default 64)
  --endpoint-concurrency=N service only: attempts in flight per endpoint
                          (default: the delivery concurrency; the service's own default is 10)
  --retry-base-ms=N       backoff base (default 100); --max-attempts=N (default 3)
Service:
  --dist                  compiled mode: the service runs dist/src/main.js (npm run build first),
                          the harness's own children run transpiled JavaScript; no process
                          carries the tsx loader (~25-30 MB RSS each). Use it for published figures.
  --sqlite-sync=MODE      SOCIALFLOW_SQLITE_SYNCHRONOUS for the SQLite run (OFF, NORMAL, FULL)
Output:
  --cpu-prof              write V8 CPU profiles of each system process to bench/results/profiles/
  --update-docs           pin this run as bench/results/published.* and rewrite the generated
                          part of docs/performance.md and its chart
  --no-save               print only; write nothing under bench/results/
  --verbose               show the output of every child process
`;

export interface Options {
  profile: Profile;
  systems: string[];
  workloads: string[];
  sizes: Sizes;
  repeat: number;
  warmup: number;
  publishConcurrency: number;
  deliveryConcurrency: number;
  endpointConcurrency: number;
  retryBaseMs: number;
  maxAttempts: number;
  dist: boolean;
  sqliteSync?: string;
  cpuProf: boolean;
  updateDocs: boolean;
  save: boolean;
  verbose: boolean;
  /** How the harness was invoked, for the record. */
  command: string;
}

function positive(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`--${name} expects a positive whole number, got "${raw}"`);
  return n;
}

const list = (raw: string) =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

export function parseOptions(argv: string[]): Options | 'help' {
  const str = { type: 'string' } as const;
  const flag = { type: 'boolean' } as const;
  const { values: v } = parseArgs({
    args: argv,
    strict: true,
    options: {
      help: flag, quick: flag, smoke: flag, scaling: flag, dist: flag, 'cpu-prof': flag, 'update-docs': flag, 'no-save': flag, verbose: flag,
      systems: str, workloads: str, 'scaling-points': str, repeat: str, events: str, 'fanout-events': str, 'fanout-endpoints': str,
      'failing-events': str, 'failing-endpoints': str, rate: str, duration: str, backlog: str, 'publish-concurrency': str,
      'delivery-concurrency': str, 'retry-base-ms': str, 'max-attempts': str, 'sqlite-sync': str, warmup: str, 'endpoint-concurrency': str,
    },
  });
  if (v.help) return 'help';
  if (v.quick && v.smoke) throw new Error('choose one of --quick and --smoke');
  const profile: Profile = v.smoke ? 'smoke' : v.quick ? 'quick' : 'full';
  const base = PROFILES[profile];
  const sizes: Sizes = {
    ...base,
    events: positive('events', v.events, base.events),
    fanoutEvents: positive('fanout-events', v['fanout-events'], base.fanoutEvents),
    fanoutEndpoints: positive('fanout-endpoints', v['fanout-endpoints'], base.fanoutEndpoints),
    failingEvents: positive('failing-events', v['failing-events'], base.failingEvents),
    failingEndpoints: positive('failing-endpoints', v['failing-endpoints'], base.failingEndpoints),
    rate: positive('rate', v.rate, base.rate),
    durationS: positive('duration', v.duration, base.durationS),
    backlog: positive('backlog', v.backlog, base.backlog),
    scaling: v['scaling-points'] ? list(v['scaling-points']).map((p) => positive('scaling-points', p, 0)) : base.scaling,
  };
  if (sizes.failingEndpoints < 2) throw new Error('--failing-endpoints must be at least 2 (one of them fails)');
  const systems = v.systems ? list(v.systems) : [...ALL_SYSTEMS];
  for (const s of systems) if (!(ALL_SYSTEMS as readonly string[]).includes(s)) throw new Error(`unknown system "${s}"`);
  // The tables call the backlog workload (e), so that name is accepted too.
  let workloads = v.workloads ? list(v.workloads).map((w) => (w === 'e' ? 'backlog' : w)) : v.scaling ? [] : DEFAULT_WORKLOADS[profile];
  for (const w of workloads) {
    if (!['a', 'b', 'c', 'd', 'backlog'].includes(w) && !/^scale-[1-9]\d*$/.test(w)) {
      throw new Error(`unknown workload "${w}" (known: a, b, c, d, backlog or e, scale-N)`);
    }
  }
  if (v.scaling) workloads = [...workloads, ...sizes.scaling.map((n) => `scale-${n}`)];
  const sync = v['sqlite-sync']?.toUpperCase();
  if (sync && !['OFF', 'NORMAL', 'FULL'].includes(sync)) throw new Error('--sqlite-sync is OFF, NORMAL or FULL');
  return {
    profile,
    systems,
    workloads,
    sizes,
    repeat: positive('repeat', v.repeat, 1),
    warmup: v.warmup === '0' ? 0 : positive('warmup', v.warmup, { full: 1000, quick: 300, smoke: 5 }[profile]),
    publishConcurrency: positive('publish-concurrency', v['publish-concurrency'], 32),
    deliveryConcurrency: positive('delivery-concurrency', v['delivery-concurrency'], 64),
    endpointConcurrency: positive(
      'endpoint-concurrency',
      v['endpoint-concurrency'],
      positive('delivery-concurrency', v['delivery-concurrency'], 64),
    ),
    retryBaseMs: positive('retry-base-ms', v['retry-base-ms'], 100),
    maxAttempts: positive('max-attempts', v['max-attempts'], 3),
    dist: Boolean(v.dist),
    sqliteSync: sync,
    cpuProf: Boolean(v['cpu-prof']),
    updateDocs: Boolean(v['update-docs']),
    save: !v['no-save'],
    verbose: Boolean(v.verbose),
    command: ['npm run bench', ...(argv.length ? ['--', ...argv] : [])].join(' '),
  };
}

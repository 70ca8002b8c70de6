/**
 * Child processes and what they cost. Every child the harness starts is tracked here and killed
 * when the harness exits, however it exits. Memory and CPU are read from /proc (Linux only):
 * VmRSS / VmHWM from /proc/<pid>/status, utime + stime from /proc/<pid>/stat.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const live = new Set<ChildProcess>();

function killAll(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
}
process.on('exit', killAll);

export interface Spawned {
  child: ChildProcess;
  pid: number;
  /** The last few kilobytes the child wrote to stdout and stderr. */
  tail: () => string;
  exited: Promise<number | null>;
}

export interface SpawnOptions {
  args?: string[];
  nodeArgs?: string[];
  env?: NodeJS.ProcessEnv;
  /** Open an IPC channel (structured-clone serialisation, so typed arrays survive). */
  ipc?: boolean;
  /** Echo the child's output to ours. */
  echo?: boolean;
  /** Load TypeScript through tsx (default true). */
  typescript?: boolean;
}

let compiled: ((script: string) => string) | null = null;

/** From now on, start the harness's own .ts children from their compiled JavaScript (see compile.ts). */
export function useCompiledChildren(map: (script: string) => string): void {
  compiled = map;
}

/**
 * Start `node [--import tsx] <script>` from the repository root. In compiled mode a bench/*.ts
 * script runs from its transpiled copy instead, without tsx.
 */
export function spawnNode(script: string, opts: SpawnOptions = {}): Spawned {
  if (interrupted) throw new Error('interrupted');
  if (compiled && script.startsWith('bench/') && script.endsWith('.ts')) {
    script = compiled(script);
    opts = { ...opts, typescript: false };
  }
  const loader = opts.typescript === false ? [] : ['--import', 'tsx'];
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), ...loader, script, ...(opts.args ?? [])], {
    cwd: REPO_ROOT,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe', ...(opts.ipc ? (['ipc'] as const) : [])],
    serialization: opts.ipc ? 'advanced' : 'json',
  });
  if (!child.pid) throw new Error(`could not start ${script}`);
  live.add(child);
  child.on('error', () => {}); // failures show up as rejected calls or an early exit
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4000);
    if (opts.echo) process.stderr.write(chunk);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      live.delete(child);
      resolve(code);
    });
  });
  return { child, pid: child.pid, tail: () => tail, exited };
}

/** SIGTERM, then SIGKILL when the child has not left after `graceMs`. */
export async function stopChild(s: Spawned, graceMs = 3000): Promise<void> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return;
  s.child.kill('SIGTERM');
  const timer = setTimeout(() => s.child.kill('SIGKILL'), graceMs);
  await s.exited;
  clearTimeout(timer);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

let ticks = 100;
try {
  ticks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
} catch {
  /* keep the usual 100 */
}

/** CPU seconds (user + system) a process has used so far; NaN when it cannot be read. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces; fields after it are space-separated.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticks;
  } catch {
    return Number.NaN;
  }
}

function statusField(pid: number, name: string): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Resident set size now, in MiB. */
export const rssMb = (pid: number): number => statusField(pid, 'VmRSS');
/** Highest resident set size the process ever had, in MiB. */
export const hwmMb = (pid: number): number => statusField(pid, 'VmHWM');

/** Pids of every process whose command name is `comm` (e.g. all PostgreSQL server processes). */
export function pidsByName(comm: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === comm) out.push(Number(entry));
    } catch {
      /* the process left */
    }
  }
  return out;
}

/** Sum of CPU seconds over a set of pids, looked up afresh each time (processes come and go). */
export function cpuSecondsOf(pids: () => number[]): number {
  let sum = 0;
  for (const pid of pids()) {
    const s = cpuSeconds(pid);
    if (Number.isFinite(s)) sum += s;
  }
  return sum;
}

/** Samples VmRSS of some pids every `everyMs` and keeps the peak of each. */
export class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  readonly peak = new Map<number, number>();

  constructor(private readonly pids: number[], private readonly everyMs = 100) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.everyMs);
    this.timer.unref();
    return this;
  }

  sample(): void {
    for (const pid of this.pids) {
      const v = rssMb(pid);
      if (Number.isFinite(v) && v > (this.peak.get(pid) ?? 0)) this.peak.set(pid, v);
    }
  }

  stop(): void {
    this.sample();
    clearInterval(this.timer);
  }
}

const cleanups = new Set<() => Promise<void>>();

/**
 * Register what must be undone if the harness is interrupted (temporary folders, databases,
 * Redis keys); returns a function that unregisters it once it has been done normally.
 */
export function onInterrupt(fn: () => Promise<void>): () => void {
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

let interrupted = false;

/** True once SIGINT/SIGTERM arrived: start nothing new, write nothing. */
export const isInterrupted = (): boolean => interrupted;

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write(`\n${signal}: stopping children and cleaning up…\n`);
    killAll();
    const all = Promise.allSettled([...cleanups].map((fn) => fn()));
    const timer = new Promise((r) => setTimeout(r, 15_000));
    void Promise.race([all, timer]).then(() => process.exit(130));
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

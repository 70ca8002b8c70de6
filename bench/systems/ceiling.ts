/** System 1, the ceiling: see bench/children/ceiling.ts. */
import { randomBytes } from 'node:crypto';
import { Rpc, waitForEvent } from '../lib/ipc.js';
import { spawnNode, stopChild } from '../lib/proc.js';
import type { DriveResult } from '../lib/drive.js';
import type { CeilingPlan } from '../children/ceiling.js';
import type { Instance, StartOptions, System } from './types.js';

export const newSecret = (): string => 'whsec_' + randomBytes(32).toString('base64');

export const ceiling: System = {
  id: 'ceiling',
  label: 'ceiling (undici loop)',
  publishes: false,
  queues: false,
  check: async () => null,
  durability: async () => 'none: in memory, nothing survives a crash',
  async start(opts: StartOptions): Promise<Instance> {
    const proc = spawnNode('bench/children/ceiling.ts', {
      ipc: true,
      echo: opts.echo,
      nodeArgs: opts.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir] : [],
    });
    await waitForEvent(proc.child, 'ready', 120_000).catch((err: Error) => {
      throw new Error(`ceiling did not start: ${err.message}\n${proc.tail()}`);
    });
    const rpc = new Rpc(proc.child);
    let endpoints: { url: string; secret: string }[] = [];
    return {
      pid: proc.pid,
      async register(urls) {
        endpoints = urls.map((url) => ({ url, secret: newSecret() }));
        return endpoints.map((e) => e.secret);
      },
      run: (plan) =>
        rpc.call<DriveResult>('run', {
          tag: plan.tag,
          events: plan.events,
          rate: plan.rate,
          endpoints,
          concurrency: opts.deliveryConcurrency,
          maxAttempts: opts.maxAttempts,
          retryBaseMs: opts.retryBaseMs,
        } satisfies CeilingPlan),
      stop: () => stopChild(proc, 2000),
    };
  },
};

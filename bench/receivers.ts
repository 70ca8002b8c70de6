/** The parent's handle on the receiver process (bench/children/receiver.ts). */
import { Rpc, waitForEvent } from './lib/ipc.js';
import { spawnNode, stopChild, type Spawned } from './lib/proc.js';
import type { ArmSpec, ReceiverData, ReceiverStatus } from './children/receiver.js';

export type { EndpointMode } from './children/receiver.js';

export class Receivers {
  private constructor(private readonly proc: Spawned, private readonly rpc: Rpc) {}

  static async start(echo = false): Promise<Receivers> {
    const proc = spawnNode('bench/children/receiver.ts', { ipc: true, echo });
    await waitForEvent(proc.child, 'ready', 120_000).catch((err: Error) => {
      throw new Error(`receivers did not start: ${err.message}\n${proc.tail()}`);
    });
    return new Receivers(proc, new Rpc(proc.child));
  }

  get pid(): number {
    return this.proc.pid;
  }

  /** Open one server per endpoint for a new run; returns their URLs. */
  async arm(spec: ArmSpec): Promise<string[]> {
    return (await this.rpc.call<{ urls: string[] }>('arm', spec)).urls;
  }

  /** New tag and counters, same servers (used between the warm-up and the measured run). */
  reset(tag: string, events: number): Promise<void> {
    return this.rpc.call('reset', { tag, events });
  }

  setSecrets(secrets: string[]): Promise<void> {
    return this.rpc.call('secrets', secrets);
  }

  status(): Promise<ReceiverStatus> {
    return this.rpc.call('status');
  }

  collect(): Promise<ReceiverData> {
    return this.rpc.call('collect');
  }

  disarm(): Promise<void> {
    return this.rpc.call('disarm');
  }

  async stop(): Promise<void> {
    await stopChild(this.proc, 2000);
  }
}

/** What every system under test offers the orchestrator. */
import type { DriveResult } from '../lib/drive.js';

export interface StartOptions {
  echo: boolean;
  /** Delivery attempts in flight at once (ceiling slots, BullMQ worker concurrency, service concurrency). */
  deliveryConcurrency: number;
  /** Service only: attempts in flight per endpoint (SOCIALFLOW_ENDPOINT_CONCURRENCY). */
  endpointConcurrency: number;
  maxAttempts: number;
  retryBaseMs: number;
  /** Write a V8 CPU profile of the system's process into this folder. */
  cpuProfDir?: string;
}

export interface RunPlan {
  tag: string;
  events: number;
  /** Events per second; omitted means as fast as the publishers go. */
  rate?: number;
  publishConcurrency: number;
}

/** An external process the system keeps its state in (Redis, PostgreSQL). */
export interface StoreProcesses {
  name: string;
  /** Processes whose CPU counts, looked up when read. */
  cpuPids: () => number[];
  /** Processes whose RSS is sampled (empty when it is not meaningful, e.g. shared buffers). */
  rssPids: number[];
}

export interface Instance {
  /** The system's own process: its RSS and CPU are the system's. */
  pid: number;
  store?: StoreProcesses;
  /** Create one endpoint per URL; returns the signing secret of each. */
  register(urls: string[]): Promise<string[]>;
  /** Publish the run's events (or, for the ceiling, send them). */
  run(plan: RunPlan): Promise<DriveResult>;
  /**
   * After the warm-up: bring the store to the state it has once it has run for a while, which a
   * fresh one lacks (PostgreSQL: the planner statistics that autovacuum gathers within a minute).
   */
  settle?(): Promise<void>;
  stop(): Promise<void>;
}

export interface System {
  id: string;
  label: string;
  /** False when the system has no publish step of its own (the ceiling). */
  publishes: boolean;
  /** False when a backlog means nothing for it (the ceiling keeps nothing). */
  queues: boolean;
  /** Null when it can run here, else why it is skipped. */
  check(): Promise<string | null>;
  /** How durable an accepted event is, as configured on this machine. */
  durability(): Promise<string>;
  start(opts: StartOptions): Promise<Instance>;
}

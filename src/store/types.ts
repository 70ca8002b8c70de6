/**
 * The store: everything the service keeps, behind interfaces shaped by their callers. Each backend
 * (sqlite/, postgres/) implements `Store`; consumers ask for the narrow part they use
 * (the worker takes a `DeliveryQueue`, the API services take the rest).
 *
 * Glossary
 * - workspace: a tenant. API keys, endpoints, events and logs belong to exactly one.
 * - endpoint: a URL subscribed to some event types (the API calls it a webhook).
 * - event: one published message; its payload is stored once, as the exact bytes delivered.
 * - delivery: one event on its way to one endpoint; it carries ids, not copies.
 * - attempt: one HTTP request of a delivery, with what came back.
 * - lease: a claim on a due delivery by one worker until `leaseUntil`; an expired lease
 *   (a worker that died) makes the delivery claimable again, which gives at-least-once delivery.
 *
 * All times are unix milliseconds.
 */
import type { DeliveryStatus, NextStep } from '../domain/delivery.js';
import type { EndpointStatus } from '../domain/endpoint.js';
import type { FailureKind } from '../domain/attempt.js';

export interface ApiKeyRecord {
  id: string;
  workspaceId: string;
  /** The first characters of the key, safe to show. */
  prefix: string;
  /** SHA-256 of the whole key, hex. */
  hash: string;
  createdAt: number;
  revokedAt: number | null;
}

export interface EndpointRecord {
  id: string;
  workspaceId: string;
  url: string;
  description: string;
  events: string[];
  status: EndpointStatus;
  /** Why the endpoint was disabled by the service itself (410 Gone, constant failure); null otherwise. */
  disabledReason: string | null;
  secret: string;
  /** The secret before the last rotation, still signed with until `previousSecretExpiresAt`. */
  previousSecret: string | null;
  previousSecretExpiresAt: number | null;
  /** Attempts in flight at once on one worker node; null = the service default. */
  maxConcurrency: number | null;
  /** Deliveries per second from one worker node; null = unlimited. */
  rateLimit: number | null;
  /** Deliveries in a row that ended failed; reset by any successful attempt. */
  consecutiveFailures: number;
  /** When the current run of failed attempts began; null while the endpoint is healthy. */
  failingSince: number | null;
  createdAt: number;
  updatedAt: number;
}

export type EndpointPatch = Partial<
  Pick<
    EndpointRecord,
    'url' | 'description' | 'events' | 'status' | 'disabledReason' | 'secret' | 'previousSecret' | 'previousSecretExpiresAt' | 'maxConcurrency' | 'rateLimit'
  >
>;

/** The column each patchable endpoint field lives in (the same in every backend). */
export const ENDPOINT_PATCH_COLUMNS: Record<keyof EndpointPatch, string> = {
  url: 'url',
  description: 'description',
  events: 'events',
  status: 'status',
  disabledReason: 'disabled_reason',
  secret: 'secret',
  previousSecret: 'previous_secret',
  previousSecretExpiresAt: 'previous_secret_expires_at',
  maxConcurrency: 'max_concurrency',
  rateLimit: 'rate_limit',
};

export interface EventRecord {
  id: string;
  workspaceId: string;
  type: string;
  payload: string;
  createdAt: number;
  /** How many deliveries the publish created. */
  fanout: number;
  /** Made by the simulator rather than a producer. */
  isTest: boolean;
}

export interface DeliveryRecord {
  id: string;
  workspaceId: string;
  eventId: string;
  endpointId: string;
  eventType: string;
  status: DeliveryStatus;
  attempts: number;
  maxAttempts: number;
  /** When a pending delivery is due; null once it has ended. */
  nextAttemptAt: number | null;
  lastStatusCode: number | null;
  lastError: string | null;
  isTest: boolean;
  createdAt: number;
  updatedAt: number;
  /**
   * Set only on a delivery written already leased to a worker (a hand-off at publish); its
   * nextAttemptAt is then the lease's end. Not read back: a stored row's lease is the queue's.
   */
  lease?: { owner: string; until: number };
}

export interface AttemptRecord {
  id: string;
  deliveryId: string;
  workspaceId: string;
  endpointId: string;
  /** 1-based position among the delivery's attempts. */
  number: number;
  startedAt: number;
  durationMs: number;
  ok: boolean;
  failure: FailureKind | null;
  requestUrl: string;
  requestHeaders: Record<string, string>;
  responseStatus: number | null;
  responseHeaders: Record<string, string> | null;
  responseBody: string | null;
  responseBodyTruncated: boolean;
  error: string | null;
}

export interface Page<T> {
  data: T[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

export interface WorkspaceStore {
  createWorkspace(id: string, name: string, now: number): Promise<void>;
  countWorkspaces(): Promise<number>;
  insertApiKey(key: ApiKeyRecord): Promise<void>;
  /** The live (not revoked) key with this hash. */
  findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  listApiKeys(workspaceId: string): Promise<ApiKeyRecord[]>;
  /** Returns false when no such live key exists in the workspace. */
  revokeApiKey(workspaceId: string, keyId: string, now: number): Promise<boolean>;
}

export interface EndpointStore {
  insertEndpoint(endpoint: EndpointRecord): Promise<void>;
  getEndpoint(workspaceId: string, id: string): Promise<EndpointRecord | undefined>;
  /** Oldest first. */
  listEndpoints(workspaceId: string): Promise<EndpointRecord[]>;
  updateEndpoint(workspaceId: string, id: string, patch: EndpointPatch, now: number): Promise<EndpointRecord | undefined>;
  /** Deletes the endpoint with its deliveries and attempts. */
  deleteEndpoint(workspaceId: string, id: string): Promise<boolean>;
}

export interface PublishInput {
  event: EventRecord;
  deliveries: DeliveryRecord[];
  /** With a key, a second publish under the same key returns the first event instead. */
  idempotencyKey?: string;
  /** Hash of the request body, so a reused key with another body can be told apart. */
  requestHash?: string;
}

export type PublishOutcome =
  | {
      created: true;
      /** As stored: its fanout leaves out `endpointsGone`. */
      event: EventRecord;
      /**
       * Endpoints deleted after the publish listed them and before it committed. Their deliveries
       * were not written, as if the delete had come first. Absent when there were none.
       */
      endpointsGone?: ReadonlySet<string>;
    }
  | { created: false; event: EventRecord; requestHash: string | null };

export interface DeliveryFilter {
  status?: DeliveryStatus;
  eventType?: string;
  cursor?: string;
  limit: number;
}

export interface DeliveryStatsBucket {
  /** Start of the bucket. */
  start: number;
  succeeded: number;
  failed: number;
  /** Mean and 95th-percentile duration of the attempts in the bucket, null when there were none. */
  avgLatencyMs: number | null;
  p95LatencyMs: number | null;
}

export interface EndpointSummary {
  endpointId: string;
  attempts: number;
  succeeded: number;
  lastAttemptAt: number | null;
  lastAttemptOk: boolean | null;
}

export interface EventStore {
  /** Stores the event and its deliveries in one transaction, honouring the idempotency key. */
  publish(input: PublishInput): Promise<PublishOutcome>;
  getEvent(workspaceId: string, id: string): Promise<EventRecord | undefined>;
  listDeliveriesForEvent(workspaceId: string, eventId: string): Promise<DeliveryRecord[]>;
  /** An endpoint's deliveries, newest first. */
  listDeliveries(workspaceId: string, endpointId: string, filter: DeliveryFilter): Promise<Page<DeliveryRecord>>;
  getDelivery(workspaceId: string, id: string): Promise<DeliveryRecord | undefined>;
  /** Oldest first. */
  listAttempts(workspaceId: string, deliveryId: string): Promise<AttemptRecord[]>;
  /**
   * Make a delivery due now with one more attempt in its budget. Returns the updated delivery,
   * or undefined when it does not exist in the workspace.
   */
  requeueDelivery(workspaceId: string, id: string, now: number): Promise<DeliveryRecord | undefined>;
  /** Records a simulator send: event, delivery and its single attempt, all at once. */
  recordTestSend(event: EventRecord, delivery: DeliveryRecord, attempt: AttemptRecord): Promise<void>;
  /** Attempt outcomes per bucket for one endpoint since `since`. */
  deliveryStats(workspaceId: string, endpointId: string, since: number, bucketMs: number): Promise<DeliveryStatsBucket[]>;
  /** Attempt counts and the last attempt since `since`, for every endpoint of the workspace. */
  endpointSummaries(workspaceId: string, since: number): Promise<EndpointSummary[]>;
}

/** A due delivery claimed by a worker, with everything one attempt needs. */
export interface ClaimedDelivery {
  deliveryId: string;
  workspaceId: string;
  eventId: string;
  payload: string;
  endpointId: string;
  url: string;
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: number | null;
  /** The number the coming attempt will have (attempts made so far + 1). */
  attemptNumber: number;
  maxAttempts: number;
  maxConcurrency: number | null;
  rateLimit: number | null;
}

export interface AttemptCompletion {
  attempt: AttemptRecord;
  next: NextStep;
}

/**
 * How many due rows a claim may look at per slot it fills. Endpoints with no room are left out
 * before rows are counted, so this only bounds the work of one claim, not who gets served.
 */
export const CLAIM_WINDOW_FACTOR = 8;

/**
 * How many more deliveries of each endpoint a claim may take, so that one endpoint with a deep
 * backlog or a slow receiver cannot take every slot of a worker.
 */

export interface ClaimRoom {
  /** For an endpoint not listed in `room`: its own max_concurrency, or else this. */
  defaultPerEndpoint: number;
  /** Endpoint id → how many more it may take now (0 = none). */
  room: Record<string, number>;
}

/** When an endpoint that keeps failing is disabled by the service. */
export interface AutoDisablePolicy {
  /** Its attempts have all failed for at least this long… */
  failingForMs: number;
  /** …and at least this many deliveries in a row ended failed. */
  minFailedDeliveries: number;
}

export interface DeliveryQueue {
  /**
   * Lease up to `limit` due deliveries of enabled endpoints to `workerId` until `now + leaseMs`.
   * A delivery is never leased to two workers at once. A leased delivery's next_attempt_at moves
   * to the end of its lease, when it is due again if its outcome never arrives; this also keeps
   * deliveries in flight out of the way of the next claim's index scan.
   */
  claimDue(workerId: string, now: number, limit: number, leaseMs: number, room: ClaimRoom): Promise<ClaimedDelivery[]>;
  /**
   * Record attempts and move their deliveries on, each only while `workerId` still holds its lease
   * (a worker whose lease expired still logs its attempt but no longer decides the state).
   * Every attempt also updates its endpoint's health (a success resets it); an endpoint that has
   * failed for as long and as often as `autoDisable` says, or whose attempt asked for it
   * (`next.disableEndpoint`, a 410 Gone), is disabled with the reason recorded.
   */
  completeAttempts(workerId: string, completions: AttemptCompletion[], now: number, autoDisable: AutoDisablePolicy): Promise<void>;
  /**
   * The earliest time after `after` at which a pending delivery of an enabled endpoint becomes
   * due; undefined when none. An indexed lookup, so it stays cheap however deep the queue is.
   * Deliveries due already are the claimer's business, and expired leases are found by polling.
   */
  nextDueAt(after: number): Promise<number | undefined>;
}

export interface RetentionStore {
  /**
   * Delete up to `batchSize` ended deliveries (with their attempts) last touched before `cutoff`,
   * then events older than `cutoff` that no longer have deliveries. Returns how many deliveries went.
   */
  purgeBefore(cutoff: number, batchSize: number): Promise<number>;
}

export interface Store extends WorkspaceStore, EndpointStore, EventStore, DeliveryQueue, RetentionStore {
  readonly kind: 'sqlite' | 'postgres';
  /**
   * Call `listener` soon after new work becomes due anywhere (a publish, a requeue, an endpoint
   * enabled again), in this process or, on a shared backend, any other node.
   */
  onWork(listener: () => void): void;
  close(): Promise<void>;
}

/**
 * Workspaces and their API keys. A key is shown once when made; the store keeps only its SHA-256
 * (keys are 32 random bytes, so a fast hash is enough: there is nothing to brute-force) and a
 * short prefix for listing.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ApiError } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import type { ApiKeyRecord, WorkspaceStore } from '../store/types.js';

const KEY_PREFIX = 'sfk_';
const SHOWN_PREFIX_LENGTH = KEY_PREFIX.length + 8;

export const hashKey = (key: string): string => createHash('sha256').update(key).digest('hex');

function keyRecord(workspaceId: string, key: string, now: number): ApiKeyRecord {
  return {
    id: newId('apiKey', now),
    workspaceId,
    prefix: key.slice(0, SHOWN_PREFIX_LENGTH),
    hash: hashKey(key),
    createdAt: now,
    revokedAt: null,
  };
}

export interface NewKey {
  workspaceId: string;
  keyId: string;
  key: string;
}

/** A new workspace with one fresh key. */
export async function createWorkspace(store: WorkspaceStore, name: string, now: number): Promise<NewKey> {
  const workspaceId = newId('workspace', now);
  await store.createWorkspace(workspaceId, name, now);
  return { workspaceId, ...(await createKey(store, workspaceId, now)) };
}

/** A further key for an existing workspace. */
export async function createKey(store: WorkspaceStore, workspaceId: string, now: number): Promise<{ keyId: string; key: string }> {
  const key = KEY_PREFIX + randomBytes(32).toString('base64url');
  const record = keyRecord(workspaceId, key, now);
  await store.insertApiKey(record);
  return { keyId: record.id, key };
}

/**
 * Make sure a workspace answers to exactly this key (SOCIALFLOW_BOOTSTRAP_KEY). Idempotent, so
 * every start with the same variable finds the same workspace.
 */
export async function ensureBootstrapKey(store: WorkspaceStore, key: string, now: number): Promise<{ workspaceId: string; created: boolean }> {
  const existing = await store.findApiKeyByHash(hashKey(key));
  if (existing) return { workspaceId: existing.workspaceId, created: false };
  const workspaceId = newId('workspace', now);
  await store.createWorkspace(workspaceId, 'Bootstrap workspace', now);
  await store.insertApiKey(keyRecord(workspaceId, key, now));
  return { workspaceId, created: true };
}

/** The workspace a bearer key belongs to; 401 for a missing, unknown or revoked key. */
export async function authenticate(store: WorkspaceStore, key: string | undefined): Promise<ApiKeyRecord> {
  if (!key) throw new ApiError('unauthorized');
  const record = await store.findApiKeyByHash(hashKey(key));
  if (!record) throw new ApiError('unauthorized', 'That API key is not valid (unknown or revoked).');
  return record;
}

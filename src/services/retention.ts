/**
 * The retention purge: ended deliveries, their attempts and their events go once they are older
 * than the retention window. It works in small batches so no single transaction holds the store
 * for long, and it yields between batches.
 */
import type { RetentionStore } from '../store/types.js';

export const PURGE_BATCH_SIZE = 500;

/** Purge everything older than `cutoff`; returns how many deliveries went. */
export async function purgeExpired(store: RetentionStore, cutoff: number, batchSize = PURGE_BATCH_SIZE): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await store.purgeBefore(cutoff, batchSize);
    total += deleted;
    if (deleted < batchSize) return total;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * Group commit: calls made in the same turn of the event loop are written in one transaction.
 *
 * A commit is the expensive part of a small write (a WAL append on SQLite, a WAL flush and a round
 * trip on PostgreSQL), so publishes that arrive together share one. Nobody waits for a timer: the
 * group closes when the event loop has run every callback that was ready (setImmediate), so a
 * lone call commits as soon as it would have on its own. Callers still get their answer only
 * after their write has committed.
 *
 * If a group's transaction fails, each of its calls is run again alone, so one bad call cannot
 * fail its neighbours; only its own promise rejects.
 */
/** Publishes per transaction, at most: enough to share most commits, short enough not to stall readers. */
export const PUBLISH_GROUP_MAX = 256;

export interface CommitGroupOptions<I, O> {
  /** Writes every item in one transaction, answers in the same order. */
  runBatch: (items: I[]) => Promise<O[]> | O[];
  /** Writes one item in its own transaction. */
  runOne: (item: I) => Promise<O> | O;
  /** Most items in one transaction, which bounds how long one commit holds the writer. */
  maxBatch: number;
}

interface Waiting<I, O> {
  item: I;
  resolve: (outcome: O) => void;
  reject: (err: unknown) => void;
}

export class CommitGroup<I, O> {
  private waiting: Waiting<I, O>[] = [];

  constructor(private readonly options: CommitGroupOptions<I, O>) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (this.waiting.length === 1) setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    const all = this.waiting;
    this.waiting = [];
    for (let start = 0; start < all.length; start += this.options.maxBatch) {
      await this.commit(all.slice(start, start + this.options.maxBatch));
    }
  }

  private async commit(group: Waiting<I, O>[]): Promise<void> {
    if (group.length > 1) {
      try {
        const outcomes = await this.options.runBatch(group.map((w) => w.item));
        group.forEach((w, i) => w.resolve(outcomes[i]!));
        return;
      } catch {
        // Fall through: find out which call failed by running each alone.
      }
    }
    for (const w of group) {
      try {
        w.resolve(await this.options.runOne(w.item));
      } catch (err) {
        w.reject(err);
      }
    }
  }
}

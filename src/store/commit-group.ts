/**
 * Group commit: calls made in the same turn of the event loop are written in one transaction.
 *
 * A commit is the expensive part of a small write (a WAL append on SQLite, a WAL flush and a round
 * trip on PostgreSQL), so publishes that arrive together share one. Nobody waits for a timer: the
 * group closes when the event loop has run every callback that was ready (setImmediate), so a
 * lone call commits as soon as it would have on its own. Callers still get their answer only
 * after their write has committed.
 *
 * A store whose commits take a round trip (PostgreSQL) also caps the groups committing at once:
 * calls that arrive while the cap is reached wait and form the next group, so the slower the
 * commits, the larger the groups, instead of many small transactions competing for the database.
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
  /** Most groups committing at once; default: no limit. */
  maxInFlight?: number;
}

interface Waiting<I, O> {
  item: I;
  resolve: (outcome: O) => void;
  reject: (err: unknown) => void;
}

export class CommitGroup<I, O> {
  private waiting: Waiting<I, O>[] = [];
  private scheduled = false;
  private inFlight = 0;
  private readonly maxInFlight: number;

  constructor(private readonly options: CommitGroupOptions<I, O>) {
    this.maxInFlight = options.maxInFlight ?? Infinity;
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** The next group closes once the event loop has run what was ready, if a commit may start. */
  private schedule(): void {
    if (this.scheduled || this.waiting.length === 0 || this.inFlight >= this.maxInFlight) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.waiting.length > 0 && this.inFlight < this.maxInFlight) {
      const group = this.waiting.splice(0, this.options.maxBatch);
      this.inFlight++;
      void this.commit(group).finally(() => {
        this.inFlight--;
        this.schedule();
      });
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

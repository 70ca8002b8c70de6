import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommitGroup } from './commit-group.js';

/** A fake store that records each transaction's items; `slow` commits wait for `release`. */
function recorder(slow = false) {
  const batches: number[][] = [];
  let releases: (() => void)[] = [];
  const settle = () => (slow ? new Promise<void>((resolve) => releases.push(resolve)) : Promise.resolve());
  return {
    batches,
    release() {
      const now = releases;
      releases = [];
      for (const resolve of now) resolve();
    },
    pending: () => releases.length,
    runBatch: async (items: number[]) => {
      batches.push(items);
      await settle();
      if (items.includes(13)) throw new Error('unlucky');
      return items.map((n) => n * 10);
    },
    runOne: async (item: number) => {
      batches.push([item]);
      await settle();
      if (item === 13) throw new Error('unlucky');
      return item * 10;
    },
  };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

test('calls made in the same turn share one transaction and get their own answers', async () => {
  const r = recorder();
  const group = new CommitGroup({ ...r, maxBatch: 100 });
  assert.deepEqual(await Promise.all([1, 2, 3].map((n) => group.submit(n))), [10, 20, 30]);
  assert.deepEqual(r.batches, [[1, 2, 3]]);
});

test('a group larger than maxBatch is split', async () => {
  const r = recorder();
  const group = new CommitGroup({ ...r, maxBatch: 2 });
  await Promise.all([1, 2, 3, 4, 5].map((n) => group.submit(n)));
  assert.deepEqual(r.batches, [[1, 2], [3, 4], [5]]);
});

test('a failing group is retried call by call, so only the bad call fails', async () => {
  const r = recorder();
  const group = new CommitGroup({ ...r, maxBatch: 100 });
  const outcomes = await Promise.allSettled([12, 13, 14].map((n) => group.submit(n)));
  assert.deepEqual(
    outcomes.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as Error).message)),
    [120, 'unlucky', 140],
  );
  assert.deepEqual(r.batches, [[12, 13, 14], [12], [13], [14]]);
});

test('with one commit in flight, calls that arrive meanwhile wait and form one group', async () => {
  const r = recorder(true);
  const group = new CommitGroup({ ...r, maxBatch: 100, maxInFlight: 1 });
  const first = group.submit(1);
  await turn();
  assert.equal(r.pending(), 1, 'the first call is committing');
  // Three calls in three separate turns while that commit runs.
  const later = [];
  for (const n of [2, 3, 4]) {
    later.push(group.submit(n));
    await turn();
  }
  assert.deepEqual(r.batches, [[1]], 'nothing else starts while the first commits');
  r.release();
  assert.equal(await first, 10);
  for (let i = 0; i < 10 && r.batches.length < 2; i++) await turn();
  assert.deepEqual(r.batches, [[1], [2, 3, 4]], 'the calls that waited commit together');
  r.release();
  assert.deepEqual(await Promise.all(later), [20, 30, 40]);
});

test('without a cap, a group closes every turn even while earlier ones commit', async () => {
  const r = recorder(true);
  const group = new CommitGroup({ ...r, maxBatch: 100 });
  const calls = [];
  for (const n of [1, 2, 3]) {
    calls.push(group.submit(n));
    await turn();
  }
  assert.deepEqual(r.batches, [[1], [2], [3]]);
  r.release();
  assert.deepEqual(await Promise.all(calls), [10, 20, 30]);
});

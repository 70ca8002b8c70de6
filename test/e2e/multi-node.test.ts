/**
 * Many nodes on one PostgreSQL database: one API node and three worker nodes, 2,000 events fanned
 * out to three endpoints (6,000 deliveries), and one worker killed with SIGKILL mid-run. Every
 * delivery still ends `succeeded`, every receiver gets every event with a valid signature, the
 * only duplicates are attempts the dead worker had in flight (sent, never recorded: at most its
 * concurrency), and the two survivors share the rest of the work.
 *
 * Which worker made an attempt is recorded nowhere the API shows, so the receivers work it out
 * from the connection: the client end of each arriving request's TCP connection is looked up in
 * /proc (its socket inode, then which worker process holds that socket). Linux only; elsewhere the
 * per-worker assertions are skipped with a note.
 *
 * Runs in the PostgreSQL pass of the suite only (it means nothing on the single-node SQLite store).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { Socket } from 'node:net';
import { after, test } from 'node:test';
import { EVENT_TYPES } from '../../src/domain/catalog.js';
import { createTestDatabase, skipReason } from '../helpers/postgres.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { freePort, spawnNode, TEST_STORE, waitHealthy, type NodeProcess } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const EVENTS = 2000;
const RECEIVERS = 3;
const WORKERS = 3;
/** Attempts in flight at once per worker: the most a killed worker can leave half done. */
const CONCURRENCY = 16;
const PUBLISH_CONCURRENCY = 16;
/** The kill comes once this share of all deliveries has arrived. */
const KILL_AT = 0.3;
/** Each survivor must have made at least this share of the attempts after the kill (an even split is 0.5). */
const MIN_SURVIVOR_SHARE = 0.25;
/**
 * A receiver notes an arrival once it has read the whole request, and bytes a worker wrote just
 * before it died can be read in the same turn of the event loop as its exit is noticed: arrivals up
 * to this long after the exit may still be the dead worker's.
 */
const DEATH_SLACK_MS = 100;

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  // Every cleanup runs (nodes stopped before their database is dropped); the first failure is reported.
  const failures: unknown[] = [];
  for (const cleanup of cleanups.reverse()) await cleanup().catch((err: unknown) => failures.push(err));
  if (failures.length > 0) throw failures[0];
});

// ── Which process holds the client end of a connection ──────────────────────────────────────

const PROC_ATTRIBUTION = process.platform === 'linux' && existsSync('/proc/net/tcp');
/** The owner of a connection whose client end no longer existed when it was looked up (its process had died). */
const GONE = -1;

/**
 * Works out which of `pids` opened each connection the receivers accept. Reading /proc/net/tcp
 * costs milliseconds (the kernel lists every socket of the machine, TIME_WAIT ones included), so
 * connections are looked up in batches, a little after their first request, while they are surely
 * still open (the workers keep them alive and busy).
 */
class ConnectionOwners {
  private readonly owners = new WeakMap<Socket, number>();
  private readonly pending = new Set<Socket>();
  /** Socket inode → pid, from the processes' fd tables; rescanned on a miss. */
  private readonly inodes = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly pids: number[]) {}

  /** Note a connection a request arrived on; its owner is looked up shortly. */
  note(socket: Socket): void {
    if (this.owners.has(socket) || this.pending.has(socket)) return;
    this.pending.add(socket);
    this.timer ??= setTimeout(() => this.resolve(), 200);
  }

  /** Pid that opened `socket`, GONE if it had vanished, undefined if not looked up (yet). */
  ownerOf(socket: Socket): number | undefined {
    return this.owners.get(socket);
  }

  /** Look up every noted connection now. */
  resolve(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    // Client end of a loopback connection: local port = the socket's remote port, remote port = the receiver's.
    const inodeOf = new Map<string, string>();
    for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || cols[9] === '0') continue;
      inodeOf.set(`${parseInt(cols[1]!.split(':')[1]!, 16)}>${parseInt(cols[2]!.split(':')[1]!, 16)}`, cols[9]!);
    }
    let rescanned = false;
    for (const socket of this.pending) {
      const inode = inodeOf.get(`${socket.remotePort}>${socket.localPort}`);
      if (inode !== undefined && !this.inodes.has(inode) && !rescanned) {
        this.scan();
        rescanned = true;
      }
      this.owners.set(socket, (inode !== undefined && this.inodes.get(inode)) || GONE);
    }
    this.pending.clear();
  }

  private scan(): void {
    this.inodes.clear();
    for (const pid of this.pids) {
      let fds: string[];
      try {
        fds = readdirSync(`/proc/${pid}/fd`);
      } catch {
        continue; // that process is gone
      }
      for (const fd of fds) {
        try {
          const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
          if (link.startsWith('socket:[')) this.inodes.set(link.slice(8, -1), pid);
        } catch {
          // closed meanwhile
        }
      }
    }
  }
}

// ── The test ────────────────────────────────────────────────────────────────────────────────

interface Arrival {
  receiver: number;
  eventId: string;
  at: number;
  verified: boolean;
  socket: Socket;
}

interface DeliveryRow {
  id: string;
  event_id: string;
  status: string;
  attempts: number;
}

test('three workers on one database, one killed mid-run: all delivered, duplicates only its attempts in flight, survivors share the rest', async (t) => {
  if (TEST_STORE !== 'postgres') return t.skip('runs in the PostgreSQL pass (TEST_STORE=postgres)');
  const db = await createTestDatabase();
  if (!db) return t.skip(skipReason());
  cleanups.push(() => db.drop());
  const started = Date.now();

  // The API node, then the workers: one database, the same settings; workers start no HTTP server.
  const port = await freePort();
  const key = `sfk_test_${randomBytes(12).toString('hex')}`;
  const common = {
    DATABASE_URL: db.url,
    SOCIALFLOW_BOOTSTRAP_KEY: key,
    SOCIALFLOW_CONCURRENCY: String(CONCURRENCY),
    // On a loaded machine an attempt can time out now and then; what is under test here is the
    // kill, not the retry cap, so a delivery may take a few more attempts than the default 3.
    SOCIALFLOW_MAX_ATTEMPTS: '10',
  };
  const url = `http://127.0.0.1:${port}`;
  const nodes: NodeProcess[] = [];
  cleanups.push(async () => {
    for (const node of nodes) if (node.child.exitCode === null && node.child.signalCode === null) node.child.kill('SIGKILL');
    await Promise.all(nodes.map((node) => node.exited));
  });
  const apiNode = spawnNode({ ...common, PORT: String(port), HOST: '127.0.0.1' }, ['--role', 'api']);
  nodes.push(apiNode);
  await waitHealthy(url, apiNode);
  // Info level, for the start-up line that says a worker runs (nothing is logged per attempt).
  const workers = Array.from({ length: WORKERS }, () => spawnNode({ ...common, LOG_LEVEL: 'info' }, ['--role', 'worker']));
  nodes.push(...workers);
  await Promise.all(
    workers.map((worker, i) =>
      waitFor(
        () => {
          if (worker.child.exitCode !== null) throw new Error(`worker ${i} exited early:\n${worker.output()}`);
          return worker.output().includes('Social Flow Webhooks is running');
        },
        { timeoutMs: 30_000, what: `worker ${i} to start` },
      ),
    ),
  );
  const workerPids = workers.map((worker) => worker.child.pid!);
  const apiPid = apiNode.child.pid!;
  const owners = new ConnectionOwners([...workerPids, apiPid]);
  const nodesUp = Date.now();

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  // Three receivers, a little slow (5–20 ms an answer) so that attempts are in flight at the kill.
  const arrivals: Arrival[] = [];
  const receivers: Receiver[] = [];
  const webhookIds: string[] = [];
  for (let r = 0; r < RECEIVERS; r++) {
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    receivers.push(receiver);
    receiver.behave((req, res, n) => {
      const got = receiver.received[n - 1]!;
      const eventId = String(got.headers['webhook-id']);
      arrivals.push({ receiver: r, eventId, at: got.at, verified: got.verified !== undefined, socket: req.socket });
      if (PROC_ATTRIBUTION) owners.note(req.socket);
      setTimeout(() => res.writeHead(200).end('ok'), 5 + Math.floor(Math.random() * 16));
    });
    const created = await api('POST', '/v1/webhooks', { url: receiver.url, events: ['post_published'] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    receiver.secrets = [created.body.secret];
    webhookIds.push(created.body.id);
  }
  const total = EVENTS * RECEIVERS;
  const pairOf = (a: Arrival) => `${a.receiver}/${a.eventId}`;
  const distinctPairs = () => new Set(arrivals.map(pairOf)).size;

  // Publish with bounded concurrency; the kill comes while this is still going or soon after.
  const example = EVENT_TYPES.find((e) => e.name === 'post_published')!.example;
  const published: string[] = [];
  let next = 0;
  const publishing = Promise.all(
    Array.from({ length: PUBLISH_CONCURRENCY }, async () => {
      while (next < EVENTS) {
        const i = next++;
        const res = await api('POST', '/v1/events', { ...example, post_id: `multi-${i}` });
        assert.equal(res.status, 202, JSON.stringify(res.body));
        assert.equal(res.body.deliveries, RECEIVERS);
        published.push(res.body.id);
      }
    }),
  );
  publishing.catch(() => undefined); // awaited below; no unhandled rejection meanwhile

  await waitFor(() => arrivals.length >= total * KILL_AT, {
    timeoutMs: 90_000,
    intervalMs: 5,
    what: `${KILL_AT * 100}% of the deliveries to arrive`,
  });
  const victim = workers[0]!;
  const victimPid = victim.child.pid!;
  if (PROC_ATTRIBUTION) owners.resolve(); // while the victim's connections still exist
  const arrivedBeforeKill = arrivals.length;
  const killSentAt = Date.now();
  victim.child.kill('SIGKILL');
  assert.equal(await victim.exited, 'SIGKILL');
  const exitedAt = Date.now();
  assert.ok(distinctPairs() < total, 'the kill came while deliveries were outstanding');

  await publishing;
  assert.equal(published.length, EVENTS);
  const publishedSet = new Set(published);

  // Every receiver gets every event; every delivery ends succeeded, as the API reports it.
  await waitFor(() => distinctPairs() === total, { timeoutMs: 120_000, intervalMs: 100, what: `all ${total} deliveries to arrive` });
  const listAll = async (webhookId: string) => {
    const all: DeliveryRow[] = [];
    let cursor: string | null = null;
    do {
      const page = await api('GET', `/v1/webhooks/${webhookId}/deliveries?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(page.status, 200, JSON.stringify(page.body));
      all.push(...page.body.data);
      cursor = page.body.next_cursor;
    } while (cursor);
    return all;
  };
  let latest: DeliveryRow[][] = [];
  const lists = await waitFor(
    async () => {
      latest = await Promise.all(webhookIds.map(listAll));
      return latest.every((list) => list.length === EVENTS && list.every((d) => d.status === 'succeeded')) ? latest : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 250, what: 'every delivery to be recorded as succeeded' },
  ).catch((err: Error) => {
    const unfinished = latest.flat().filter((d) => d.status !== 'succeeded');
    const counts = [...new Set(unfinished.map((d) => d.status))].map((st) => `${unfinished.filter((d) => d.status === st).length} ${st}`);
    throw new Error(
      `${err.message}; ${latest.map((l) => l.length).join('/')} deliveries listed, not succeeded: ${counts.join(', ') || 'none'}, ` +
        `e.g. ${JSON.stringify(unfinished.slice(0, 3))}`,
    );
  });
  // Nothing is pending any more, so nothing more can arrive: the counts below are final.
  const finishedAt = Date.now();
  if (PROC_ATTRIBUTION) owners.resolve();
  for (const [r, list] of lists.entries()) {
    assert.deepEqual(new Set(list.map((d) => d.event_id)), publishedSet, `endpoint ${r} has one delivery per event`);
    const mine = arrivals.filter((a) => a.receiver === r);
    assert.deepEqual(new Set(mine.map((a) => a.eventId)), publishedSet, `receiver ${r} got every event`);
    assert.equal(receivers[r]!.received.length, mine.length);
  }
  const unverified = arrivals.filter((a) => !a.verified).length;
  assert.equal(unverified, 0, `${unverified} arrivals failed signature verification`);

  // Duplicates. A receiver can get a delivery more than once for two reasons only: an attempt
  // that failed and was recorded (then retried), or an attempt that was sent but never recorded,
  // which only a worker that died mid-attempt leaves behind. The receivers answer 200 within 20 ms,
  // so normally nothing fails and every duplicate is one of the killed worker's attempts in flight:
  // at most its concurrency of them, each sent by the killed worker before its death, and sent
  // again (successfully) by a survivor after it. On an overloaded machine an attempt can still time
  // out; such retries are in the log and allowed, but nothing else may fail.
  const retried = lists.flat().filter((d) => d.attempts > 1);
  const failures = new Map<string, number>();
  for (let i = 0; i < retried.length; i += 10) {
    const logs = await Promise.all(retried.slice(i, i + 10).map((d) => api('GET', `/v1/deliveries/${d.id}`)));
    for (const { body } of logs) {
      for (const a of body.attempts as { ok: boolean; failure: string | null; error: string | null }[]) {
        if (a.ok) continue;
        const why = a.failure === 'timeout' ? 'timeout' : `${a.failure}: ${a.error}`;
        failures.set(why, (failures.get(why) ?? 0) + 1);
      }
    }
  }
  const failed = [...failures].map(([why, n]) => `${n} × ${why}`).join(', ');
  assert.deepEqual([...failures.keys()].filter((why) => why !== 'timeout'), [], `attempts failed: ${failed}`);

  const recordedAttempts = new Map<string, number>();
  for (const [r, list] of lists.entries()) for (const d of list) recordedAttempts.set(`${r}/${d.event_id}`, d.attempts);
  const byPair = new Map<string, Arrival[]>();
  for (const a of arrivals) byPair.set(pairOf(a), [...(byPair.get(pairOf(a)) ?? []), a]);
  const duplicates = arrivals.length - total;
  let unrecorded = 0;
  for (const [pair, list] of byPair) {
    const extra = list.length - recordedAttempts.get(pair)!;
    if (extra <= 0) continue;
    unrecorded += extra;
    const fromVictim = list.filter(
      (a) => a.at <= exitedAt + DEATH_SLACK_MS && (!PROC_ATTRIBUTION || [victimPid, GONE].includes(owners.ownerOf(a.socket)!)),
    );
    const describe = () => list.map((a) => `+${a.at - killSentAt} ms from pid ${owners.ownerOf(a.socket)}`).join(', ');
    assert.ok(
      fromVictim.length >= extra,
      `delivery ${pair} arrived ${list.length} times with ${recordedAttempts.get(pair)} attempts recorded, ` +
        `but not every unrecorded one came from the killed worker (pid ${victimPid}) before its death: ${describe()} (relative to the kill)`,
    );
    const last = list.at(-1)!;
    assert.ok(last.at >= killSentAt, `delivery ${pair} came ${list.length} times, all before the kill`);
    if (PROC_ATTRIBUTION) {
      const by = owners.ownerOf(last.socket);
      assert.ok(by !== victimPid && by !== GONE, `delivery ${pair} was last sent by pid ${by}, not a survivor: ${describe()}`);
    }
  }
  assert.ok(
    unrecorded <= CONCURRENCY,
    `${unrecorded} arrivals were never recorded as attempts; at most ${CONCURRENCY} (the killed worker's concurrency) may be`,
  );
  if (retried.length === 0) assert.equal(duplicates, unrecorded);

  // Load sharing: all three workers took part before the kill, and each survivor made a
  // substantial share of the attempts after it.
  const post = arrivals.filter((a) => a.at > exitedAt + DEATH_SLACK_MS);
  let shares = 'per-worker counts need /proc (Linux): load-sharing assertions skipped';
  if (PROC_ATTRIBUTION) {
    const by = (list: Arrival[], pid: number) => list.filter((a) => owners.ownerOf(a.socket) === pid).length;
    const pre = arrivals.slice(0, arrivedBeforeKill);
    assert.equal(by(arrivals, apiPid), 0, 'the API node (role api) made no attempt');
    for (const pid of workerPids) assert.ok(by(pre, pid) > 0, `worker ${pid} made no attempt before the kill`);
    assert.equal(by(post, victimPid), 0, 'nothing arrived over a live connection of the killed worker after its death');
    assert.ok(by(post, GONE) <= CONCURRENCY, `${by(post, GONE)} arrivals after the kill over connections already gone`);
    const survivors = workerPids.slice(1);
    for (const pid of survivors) {
      const share = by(post, pid) / post.length;
      const what = `survivor ${pid} made only ${(share * 100).toFixed(1)}% of the ${post.length} attempts after the kill`;
      assert.ok(share >= MIN_SURVIVOR_SHARE, what);
    }
    shares =
      `attempts before the kill per worker ${workerPids.map((p) => by(pre, p)).join('/')}, ` +
      `after it per survivor ${survivors.map((p) => by(post, p)).join('/')}`;
  }
  t.diagnostic(
    `nodes up in ${nodesUp - started} ms; kill after ${arrivedBeforeKill} arrivals at +${killSentAt - nodesUp} ms; ` +
      `all ${total} delivered at +${finishedAt - nodesUp} ms; ${duplicates} duplicate arrivals, ${unrecorded} of them ` +
      `the killed worker's unrecorded attempts; ${retried.length} deliveries retried${failed ? ` (${failed})` : ''}; ${shares}`,
  );
});

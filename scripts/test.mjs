#!/usr/bin/env node
/**
 * The test suite, as `npm test` runs it:
 *   1. unit tests (src/**\/*.test.ts), the store conformance suite (both backends) and every
 *      black-box test under test/ on the embedded SQLite store;
 *   2. the black-box tests again on PostgreSQL (TEST_STORE=postgres), each server on a fresh database.
 * Without a reachable PostgreSQL server the second pass is skipped with a message, except under
 * CI, where it must run. Extra arguments narrow the files: `npm test -- test/e2e/gateway.test.ts`.
 *
 * The server is compiled first and the black-box tests start it from dist/ (TEST_SERVER_ENTRY),
 * which starts several times faster than through tsx. Heavy multi-process tests run on their own
 * after the parallel part, so their load does not eat into other tests' deadlines.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';

const root = fileURLToPath(new URL('..', import.meta.url));
const find = (dir) =>
  readdirSync(join(root, dir), { recursive: true })
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => join(dir, f))
    .sort();

const only = process.argv.slice(2);
const pick = (files) => (only.length ? files.filter((f) => only.some((o) => f.includes(o))) : files);
const unit = pick([...find('src'), ...find('test/store')]);
const SOLO = ['test/e2e/multi-node.test.ts'];
const blackBox = pick(find('test').filter((f) => !f.startsWith('test/store/') && !SOLO.includes(f)));
const solo = pick(SOLO);
const concurrency = process.env.TEST_CONCURRENCY ?? '3';

function run(label, files, env) {
  if (files.length === 0) return 0;
  console.log(`\n── ${label}: ${files.length} files ──`);
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
    { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } },
  );
  return result.status ?? 1;
}

function postgresReachable() {
  return new Promise((resolve) => {
    const socket = net.connect(5432, '127.0.0.1');
    socket.setTimeout(2000);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

const compiled = spawnSync('npm', ['run', '--silent', 'build:server'], { cwd: root, stdio: 'inherit' });
if (compiled.status !== 0) process.exit(compiled.status ?? 1);
const entry = { TEST_SERVER_ENTRY: 'dist' };

let failed = run('SQLite store', [...unit, ...blackBox], { ...entry, TEST_STORE: 'sqlite' });
if (await postgresReachable()) {
  // Every pass runs even after a failure, so one run shows everything that is broken.
  failed = run('PostgreSQL store', blackBox, { ...entry, TEST_STORE: 'postgres' }) || failed;
  failed = run('PostgreSQL store, several nodes', solo, { ...entry, TEST_STORE: 'postgres' }) || failed;
} else if (process.env.CI) {
  console.error('PostgreSQL is not reachable at 127.0.0.1:5432, and CI requires the PostgreSQL pass.');
  failed = 1;
} else {
  console.warn('\nSKIPPED: the PostgreSQL pass (no server at 127.0.0.1:5432; it runs in CI).');
}
process.exit(failed);

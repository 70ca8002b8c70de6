/**
 * Hostile callers. fast-check generates random and malformed requests for every route: bodies,
 * headers, paths, ids, query strings, unicode, huge numbers, deeply nested JSON, prototype keys,
 * content types, bytes that are not UTF-8, broken HTTP framing. They go over real HTTP to a real
 * server process. What must hold:
 *
 * - never a 5xx, whatever the input;
 * - every 4xx answer is JSON `{"error":{"code","message"}}` with a documented code for that status;
 * - the process never exits;
 * - `__proto__` / `constructor.prototype` keys are refused and pollute nothing (checked afterwards
 *   by requests whose answers would change if Object.prototype had been written to);
 * - the store stays consistent: every listed webhook is well formed and can be read with its log,
 *   and a normal publish is still delivered end to end to a real receiver.
 *
 * Deliveries can only reach addresses that never answer: every URL the generators produce is
 * checked (with the WHATWG parser the service uses) to be 127.0.0.1 on a port of this test that
 * hangs up on every connection, or a host under `.invalid`; a request carrying any other URL is
 * skipped.
 *
 * Reproducing a failure: the report prints a seed and a path. Run just that property again with
 *   HOSTILE_SEED=<seed> HOSTILE_PATH=<path> node --import tsx --test \
 *     --test-name-pattern='<property name>' test/e2e/hostile-callers.test.ts
 * HOSTILE_RUNS=<factor> multiplies the number of runs (e.g. 10 for a long soak).
 */
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import fc from 'fast-check';
import { EVENT_TYPES, EVENT_TYPE_NAMES } from '../../src/domain/catalog.js';
import { ERROR_CODES } from '../../src/domain/errors.js';
import { prepareEvent } from '../../src/domain/event.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

// ── run settings ────────────────────────────────────────────────────────────────────────────

const SEED = process.env.HOSTILE_SEED ? Number(process.env.HOSTILE_SEED) : undefined;
const REPLAY_PATH = process.env.HOSTILE_PATH || undefined;
const RUN_FACTOR = Number(process.env.HOSTILE_RUNS ?? '1') || 1;

function runs<T>(numRuns: number): fc.Parameters<T> {
  const params: fc.Parameters<T> = { numRuns: Math.max(1, Math.round(numRuns * RUN_FACTOR)) };
  if (SEED !== undefined) params.seed = SEED;
  if (REPLAY_PATH !== undefined) {
    params.path = REPLAY_PATH;
    params.endOnFailure = true;
  }
  return params;
}

const PROPERTY_TIMEOUT_MS = 240_000;

// ── the server under test and what it holds ─────────────────────────────────────────────────

let server: TestServer;
let receiver: Receiver | undefined;
/**
 * The only loopback port endpoints may point at: ours, and it hangs up on every connection. (A
 * merely closed port could be taken by another test's receiver running at the same time.)
 */
let sink: Server | undefined;
let sinkPort = 0;
/** The bootstrap key's id: never revoked, so every property keeps a working key. */
let mainKeyId = '';
/** A second key of the same workspace; random requests may revoke it. */
let spareKey = '';

/** Ids of real records; random requests pick from these as well as from made-up ids. */
const pool = { webhook: [] as string[], event: [] as string[], delivery: [] as string[], apiKey: [] as string[] };
type PoolKind = keyof typeof pool;

/** Values planted through every prototype-poisoning attempt; none may ever come back. */
const MARKER = 'sf-hostile-polluted';
const POISON_KEYS = ['polluted', 'admin', 'isAdmin', 'authorization', 'agent_id', 'post_id', 'platform', 'content_preview', 'url', 'events', 'status', 'test', 'workspaceId'];

// ── URL safety: deliveries may only go where nothing answers ────────────────────────────────

function isSafeTarget(raw: string): boolean {
  // Not an absolute URL (no scheme, or unparseable): the service refuses it.
  if (!raw.includes(':') || !URL.canParse(raw)) return true;
  const url = new URL(raw);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return true;
  if (/(^|\.)invalid\.?$/.test(url.hostname)) return true; // the .invalid TLD never resolves (RFC 6761)
  return url.hostname === '127.0.0.1' && url.port === String(sinkPort);
}

/** The first string (value or key) in a JSON value that is a URL to a real host; iterative, for deep values. */
function unsafeUrlIn(root: unknown): string | undefined {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value === 'string') {
      if (!isSafeTarget(value)) return value;
    } else if (Array.isArray(value)) {
      for (const item of value) stack.push(item);
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) stack.push(k, v);
    }
  }
  return undefined;
}

/** False when any reading of the body the server could make contains a URL to a real host. */
function bodyIsSafe(body: string | Uint8Array | undefined): boolean {
  if (body === undefined) return true;
  const texts = typeof body === 'string' ? [body] : [Buffer.from(body).toString('utf8'), Buffer.from(body).toString('latin1')];
  for (const text of texts) {
    for (const candidate of [text, text.replace(/^\uFEFF/, '')]) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(candidate);
      } catch {
        continue;
      }
      if (unsafeUrlIn(parsed) !== undefined) return false;
    }
  }
  return true;
}

// ── requests and the error contract ─────────────────────────────────────────────────────────

interface Req {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

interface Res {
  status: number;
  contentType: string;
  text: string;
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}…(${s.length} chars)` : s);

function show(req: Req): string {
  const body =
    req.body === undefined ? '(none)' : typeof req.body === 'string' ? JSON.stringify(clip(req.body, 400)) : `hex:${clip(Buffer.from(req.body).toString('hex'), 400)}`;
  const headers = { ...req.headers };
  if (headers.authorization === `Bearer ${server.key}`) headers.authorization = 'Bearer <main key>';
  return `${req.method} ${clip(req.path, 300)} headers=${JSON.stringify(headers)} body=${body}`;
}

async function call(req: Req): Promise<Res> {
  const res = await fetch(server.url + req.path, {
    method: req.method,
    headers: req.headers,
    body: req.body as string | undefined,
    redirect: 'manual',
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text: await res.text() };
}

const asMain = (method: string, path: string, body?: unknown): Req => ({
  method,
  path,
  headers: { authorization: `Bearer ${server.key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
  ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
});

function assertAlive(): void {
  const { child } = server.node;
  if (child.exitCode !== null || child.signalCode !== null) {
    throw new Error(`the server process exited (${child.exitCode ?? child.signalCode}); its last output:\n${server.node.output().slice(-4000)}`);
  }
}

/** The browser fallback answers GETs outside /v1 that accept HTML with the dashboard (or a text 404). */
function isPageRequest(req: Req): boolean {
  const wire = new URL(server.url + req.path);
  return req.method === 'GET' && !(wire.pathname + wire.search).startsWith('/v1') && (req.headers.accept ?? '').includes('text/html');
}

/** Never a 5xx; every 4xx is `{"error":{"code","message"}}` with the code documented for that status. */
function checkAnswer(where: string, status: number, contentType: string, text: string): void {
  const what = () => `${where}\n  → ${status} ${contentType} ${clip(text, 600)}`;
  if (status >= 500) throw new Error(`a ${status} for caller input:\n  ${what()}`);
  if (status < 400) return;
  if (!/^application\/json\b/i.test(contentType)) throw new Error(`an error answer that is not application/json:\n  ${what()}`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`an error answer that is not JSON:\n  ${what()}`);
  }
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  if (typeof error?.code !== 'string' || typeof error.message !== 'string') {
    throw new Error(`an error answer that is not {"error":{"code","message"}}:\n  ${what()}`);
  }
  const documented = (ERROR_CODES as Record<string, { status: number }>)[error.code];
  if (documented?.status !== status) throw new Error(`error code "${error.code}" is not documented for status ${status}:\n  ${what()}`);
}

function checkContract(req: Req, res: Res): void {
  assertAlive();
  if (req.method === 'HEAD' || isPageRequest(req)) {
    if (res.status >= 500) throw new Error(`a ${res.status} for caller input:\n  ${show(req)}`);
    return;
  }
  checkAnswer(show(req), res.status, res.contentType, res.text);
}

/** Answers seen by the current property, by status and error code, reported as a test diagnostic. */
let tally = new Map<string, number>();
function count(res: Res): void {
  let code = '';
  if (res.status >= 400) {
    try {
      code = ` ${String((JSON.parse(res.text) as { error?: { code?: unknown } }).error?.code)}`;
    } catch {
      code = ' (not JSON)';
    }
  }
  const key = `${res.status}${code}`;
  tally.set(key, (tally.get(key) ?? 0) + 1);
}
function report(t: { diagnostic(message: string): void }): void {
  const seen = [...tally.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}: ${n}`);
  t.diagnostic(`answers: ${seen.join(', ')}`);
  tally = new Map();
}

/** Send, check the contract, and keep the pools of real ids up to date. */
async function send(req: Req): Promise<Res> {
  if (req.path.includes(mainKeyId)) fc.pre(false); // the main key is never revoked
  fc.pre(bodyIsSafe(req.body));
  const res = await callChecked(req);
  await bookkeeping(req, res);
  return res;
}

/** Send and check the contract; a failure on a 5xx quotes what the server logged meanwhile. */
async function callChecked(req: Req): Promise<Res> {
  const logged = serverErrors().length;
  let res: Res;
  try {
    res = await call(req);
  } catch (err) {
    assertAlive();
    throw new Error(`the request failed at the HTTP level (${(err as Error).message}):\n  ${show(req)}`);
  }
  count(res);
  try {
    checkContract(req, res);
  } catch (err) {
    if (res.status >= 500) {
      await new Promise((resolve) => setTimeout(resolve, 100)); // let the log line arrive
      const lines = serverErrors().slice(logged);
      (err as Error).message += `\n  server log: ${lines.length > 0 ? clip(lines.join('\n'), 1500) : '(nothing)'}`;
    }
    throw err;
  }
  return res;
}

async function bookkeeping(req: Req, res: Res): Promise<void> {
  const deleted = /^\/v1\/(webhooks|api-keys)\/([^/]+)$/.exec(req.path.split('?')[0]!);
  if (req.method === 'DELETE' && res.status === 204 && deleted) {
    const list = deleted[1] === 'webhooks' ? pool.webhook : pool.apiKey;
    const at = list.indexOf(decodeURIComponent(deleted[2]!));
    if (at >= 0) list.splice(at, 1);
  }
  while (pool.webhook.length < 3) pool.webhook.push(await createFodderWebhook());
}

/** Forget webhooks that no longer exist (a raw DELETE may have removed one) and top the pool up. */
async function syncWebhookPool(): Promise<void> {
  const res = await call(asMain('GET', '/v1/webhooks'));
  const live = new Set((parse(res) as { data: { id: string }[] }).data.map((w) => w.id));
  pool.webhook = pool.webhook.filter((id) => live.has(id));
  while (pool.webhook.length < 3) pool.webhook.push(await createFodderWebhook());
}

async function createFodderWebhook(events: string[] = ['*']): Promise<string> {
  const res = await call(asMain('POST', '/v1/webhooks', { url: `http://127.0.0.1:${sinkPort}/fodder`, events, description: 'fodder' }));
  expectStatus(res, 201, 'creating a fodder webhook');
  return (JSON.parse(res.text) as { id: string }).id;
}

const parse = (res: Res): any => JSON.parse(res.text);

/** Error and fatal lines the server logged. */
const serverErrors = (): string[] =>
  server.node
    .output()
    .split('\n')
    .filter((line) => /"level":(50|60)/.test(line));

/** Assert a status; on a 5xx, say what the server logged about it. */
function expectStatus(res: Res, status: number, what: string): void {
  if (res.status === status) return;
  const logged = res.status >= 500 ? `\n  server log: ${clip(serverErrors().at(-1) ?? '(nothing)', 1200)}` : '';
  assert.fail(`${what}: expected ${status}, got ${res.status} ${clip(res.text, 500)}${logged}`);
}

// ── generators ──────────────────────────────────────────────────────────────────────────────

/** Percent-encode every byte of the UTF-8 form except unreserved characters (lone surrogates become U+FFFD). */
const pct = (s: string): string =>
  Array.from(Buffer.from(s, 'utf8'))
    .map((b) => (/[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`))
    .join('');

const NASTY_CHARS = [
  '\u0000', '\u0001', '\u001f', '\u007f', '\u0085', '\u00a0', '\u00ff', '\u2028', '\u2029', '\ufeff', '\ufffd', '\ufffe',
  '\ud800', '\udfff', '\ud83d\ude00', '\u{10ffff}', 'e\u0301', '\u202e', '𝕏', 'ß', 'İ', '%', '/', '\\', '.', '"', "'", '`', '<', '>',
  '{', '}', '[', ']', '$', '*', '?', '#', '&', '=', ';', ':', '@', '+', ' ', '\t', '\n', '\r',
];
const nastyChar = fc.constantFrom(...NASTY_CHARS);
const singleCodePoint = fc.string({ unit: 'binary', minLength: 1, maxLength: 1 });

const SPECIAL_STRINGS = [
  '', ' ', 'null', 'undefined', 'NaN', 'Infinity', 'true', '0', '-1', '1e400', '__proto__', 'constructor', 'prototype', 'toString',
  'hasOwnProperty', 'valueOf', '*', 'ep_', 'evt_', 'del_', 'key_', "' OR '1'='1' --", '"; DROP TABLE endpoints; --', '%00', '%s%n%x',
  '${7*7}', '{{7*7}}', '../../etc/passwd', '<script>alert(1)</script>', 'post_published', 'POST_PUBLISHED', 'post_published ',
];

const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 3, arbitrary: fc.string({ unit: fc.oneof(nastyChar, singleCodePoint, fc.constantFrom('a', 'Z', '0')), maxLength: 40 }) },
  { weight: 2, arbitrary: fc.constantFrom(...SPECIAL_STRINGS) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 60, max: 3000 }), fc.constantFrom('x', 'é', '\u0000', '😀')).map(([n, c]) => c.repeat(n)) },
);

/** JSON number literals JavaScript cannot hold exactly, or at all. */
const NUMBER_LITERALS = [
  '0', '-0', '1', '-1', '0.5', '1e400', '-1e400', '1e-400', '5e-324', '1.7976931348623157e308', '123456789012345678901234567890',
  '9007199254740993', '-9007199254740993', '1E+2', '1e2', '0.1e1', '100000000000000000000000000000000000000000000000000000000000000000000',
];

/** JSON text of a leaf value. */
const leafText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('null', 'true', 'false', '[]', '{}', '""'),
  fc.constantFrom(...NUMBER_LITERALS),
  fc.double().map((d) => (Number.isFinite(d) ? JSON.stringify(d) : 'null')),
  fc.bigInt().map(String),
  hostileString.map((s) => JSON.stringify(s)),
);

/** `"__proto__"` spelled with a random mix of literal characters and \u escapes. */
const escapedKey = (key: string) =>
  fc.array(fc.boolean(), { minLength: key.length, maxLength: key.length }).map(
    (escapes) => `"${[...key].map((c, i) => (escapes[i] ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : c)).join('')}"`,
  );

const keyText: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: hostileString.map((k) => JSON.stringify(k)) },
  {
    weight: 3,
    arbitrary: fc
      .constantFrom('event', 'url', 'events', 'description', 'status', 'payload', 'agent_id', 'timestamp', 'polluted', 'prototype', 'constructor')
      .map((k) => JSON.stringify(k)),
  },
  { weight: 1, arbitrary: fc.constant('"__proto__"') },
);

/** JSON text of any shape: duplicate keys, prototype keys, odd numbers, nasty strings. */
const jsonText: fc.Arbitrary<string> = fc.letrec<{ value: string; array: string; object: string }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leafText, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 5 }).map((items) => `[${items.join(',')}]`),
  object: fc.array(fc.tuple(keyText, tie('value')), { maxLength: 6 }).map((entries) => `{${entries.map(([k, v]) => `${k}:${v}`).join(',')}}`),
})).value;

/** Text that is almost JSON: cut anywhere, with a BOM, or with whitespace JSON does not allow. */
const brokenJsonText: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(jsonText, fc.nat()).map(([t, n]) => t.slice(0, t.length === 0 ? 0 : n % t.length)),
  jsonText.map((t) => `\ufeff${t}`),
  jsonText.map((t) => `${t}${t}`),
  jsonText.map((t) => `\u00a0${t}\u2028`),
  fc.constantFrom('{', '}', '[', '{"a":}', '{"a":1,}', '[1,]', "{'a':1}", '{a:1}', 'NaN', 'Infinity', '-', '01', '.5', '"\\x41"', '"\\u12"', '"\u0000"', '/* */{}', '{"__proto__":'),
);

const anyBody: fc.Arbitrary<string | Uint8Array | undefined> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constant('') },
  { weight: 5, arbitrary: jsonText },
  { weight: 2, arbitrary: fc.json() },
  { weight: 2, arbitrary: brokenJsonText },
  { weight: 2, arbitrary: hostileString },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 300 }) },
);

const RAW_SEGMENTS = [
  '', '%', '%Z', '%zz', '%00', '%0A', '%0D%0A', '%ED%A0%80', '%C0%AF', '%FF', '%FE%FF', '%E2%80%AE', '%25', '%2F', 'a%2Fb', '%2e%2e', '..',
  '.', ';', ';a=b', '~', "!$&'()*+,;=:@", '%u0041', '%F0%9F%98%80', 'x'.repeat(64), 'x'.repeat(65), 'x'.repeat(100), 'x'.repeat(101),
  'x'.repeat(3000), `ep_${'Z'.repeat(26)}`, `evt_${'0'.repeat(26)}`, `del_${'I'.repeat(26)}`, 'EP_01', 'null', 'undefined', '__proto__',
  'constructor', 'prototype', '*',
];

/** A real id (of the kind the route takes, or any kind), possibly twisted, or a made-up one. */
type IdRef = { kind: PoolKind | 'auto'; index: number; twist: string } | { raw: string };

const idArb: fc.Arbitrary<IdRef> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constantFrom<PoolKind | 'auto'>('auto', 'auto', 'auto', 'webhook', 'event', 'delivery', 'apiKey'),
      index: fc.nat(),
      twist: fc.oneof(
        { weight: 5, arbitrary: fc.constant('none') },
        { weight: 1, arbitrary: fc.constantFrom('lower', 'trailing-space', 'nul', 'double', 'truncate', 'suffix', 'prefix-swap') },
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom('ep_', 'evt_', 'del_', 'key_', 'ws_', 'att_', ''), fc.string({ unit: fc.constantFrom(...'0123456789ABCDEFGHJKMNPQRSTVWXYZabcILOU'), maxLength: 30 }))
      .map(([p, s]) => ({ raw: p + s })),
  },
  { weight: 3, arbitrary: hostileString.map((s) => ({ raw: pct(s) })) },
  { weight: 2, arbitrary: fc.constantFrom(...RAW_SEGMENTS).map((raw) => ({ raw })) },
);

const KIND_OF_ROUTE: [RegExp, PoolKind][] = [[/^\/v1\/events/, 'event'], [/^\/v1\/deliveries/, 'delivery'], [/^\/v1\/api-keys/, 'apiKey']];

function resolveId(ref: IdRef, route: string): string {
  if ('raw' in ref) return ref.raw;
  const kind = ref.kind === 'auto' ? (KIND_OF_ROUTE.find(([re]) => re.test(route))?.[1] ?? 'webhook') : ref.kind;
  const list = pool[kind];
  const id = list.length > 0 ? list[ref.index % list.length]! : `${kind}_missing`;
  switch (ref.twist) {
    case 'lower':
      return id.toLowerCase();
    case 'trailing-space':
      return `${id}%20`;
    case 'nul':
      return `${id}%00`;
    case 'double':
      return id + id;
    case 'truncate':
      return id.slice(0, -1);
    case 'suffix':
      return `${id}x`;
    case 'prefix-swap':
      return `ep_${id.slice(id.indexOf('_') + 1)}`;
    default:
      return id;
  }
}

/** Every route the API has, with its method. */
const ENDPOINTS: [method: string, route: string][] = [
  ['POST', '/v1/webhooks'], ['GET', '/v1/webhooks'], ['GET', '/v1/webhooks/{id}'], ['PATCH', '/v1/webhooks/{id}'], ['DELETE', '/v1/webhooks/{id}'],
  ['GET', '/v1/webhooks/{id}/secret'], ['POST', '/v1/webhooks/{id}/secret/rotate'], ['POST', '/v1/webhooks/{id}/test'],
  ['GET', '/v1/webhooks/{id}/deliveries'], ['GET', '/v1/webhooks/{id}/stats'], ['POST', '/v1/events'], ['GET', '/v1/events/{id}'],
  ['GET', '/v1/deliveries/{id}'], ['POST', '/v1/deliveries/{id}/retry'], ['GET', '/v1/event-types'], ['GET', '/v1/workspace'],
  ['GET', '/v1/api-keys'], ['POST', '/v1/api-keys'], ['DELETE', '/v1/api-keys/{id}'], ['GET', '/healthz'],
];
const ROUTES = [
  '/v1/webhooks', '/v1/webhooks/{id}', '/v1/webhooks/{id}/secret', '/v1/webhooks/{id}/secret/rotate', '/v1/webhooks/{id}/test',
  '/v1/webhooks/{id}/deliveries', '/v1/webhooks/{id}/stats', '/v1/events', '/v1/events/{id}', '/v1/deliveries/{id}',
  '/v1/deliveries/{id}/retry', '/v1/event-types', '/v1/workspace', '/v1/api-keys', '/v1/api-keys/{id}', '/healthz',
];
const ODD_ROUTES = [
  '/', '/v1', '/v1/', '/v2/webhooks', '/V1/WEBHOOKS', '/v1//webhooks', '/v1/webhooks/', '/v1/webhooks/{id}/', '/v1/webhooks/{id}/{id}',
  '/v1/webhooks/{id}/secret/{id}', '/v1/events/{id}/deliveries', '/openapi.json', '/docs', '/docs/{id}', '/{id}', '/v1/{id}', '/healthz/{id}',
];

const randomPath: fc.Arbitrary<string> = fc
  .array(fc.oneof(hostileString.map(pct), fc.constantFrom(...RAW_SEGMENTS, 'v1', 'webhooks', 'events', 'deliveries', 'api-keys')), { minLength: 1, maxLength: 5 })
  .map((segments) => `/${segments.join('/')}`);

const QUERY_FRAGMENTS = [
  '?', '?&', '?=', '?&&=&', '?limit', '?limit=', '?limit=0', '?limit=1', '?limit=20', '?limit=100', '?limit=101', '?limit=-1', '?limit=1e2',
  '?limit=01', '?limit=1.5', '?limit=%201', '?limit=99999999999999999999999', '?limit=1&limit=2', '?status=pending', '?status=failed',
  '?status=succeeded&status=failed', '?status=__proto__', '?status=PENDING', '?__proto__=1', '?__proto__[polluted]=yes',
  '?constructor[prototype][polluted]=yes', '?constructor.prototype.polluted=yes', '?polluted=yes', '?cursor=', '?cursor=%00',
  '?cursor=del_', '?cursor=%FF', `?cursor=${'z'.repeat(64)}`, `?cursor=${'z'.repeat(65)}`, '?event=*', '?event=%00', '?event=post_published',
  '?window=7d', '?window=24h', '?window=1y', '?window=', '?window=7d&window=24h', '?a=%', '?a=%ZZ', '?%=', '?;', '?a[]=1&a[]=2', '?a[b]=c',
];

const queryKey = fc.oneof(fc.constantFrom('limit', 'status', 'event', 'cursor', 'window', '__proto__', 'constructor', 'prototype', 'hasOwnProperty'), hostileString);
const queryValue = fc.oneof(
  fc.constantFrom('1', '20', '100', 'pending', 'succeeded', 'failed', 'post_published', '*', '24h', '7d', ...NUMBER_LITERALS),
  hostileString,
);

const queryArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constant('') },
  {
    weight: 3,
    arbitrary: fc
      .array(fc.tuple(queryKey, queryValue), { minLength: 1, maxLength: 5 })
      .map((pairs) => `?${pairs.map(([k, v]) => `${pct(k)}=${pct(v)}`).join('&')}`),
  },
  { weight: 3, arbitrary: fc.constantFrom(...QUERY_FRAGMENTS) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 60 }).filter((s) => !s.includes('#')).map((s) => `?${s}`) },
);

/** Header values fetch can carry: Latin-1 without control characters. */
const latin1Value = fc.string({
  unit: fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c)),
  maxLength: 80,
});

const TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
/** Headers the HTTP client itself owns (or refuses); the raw-socket property covers those. */
const CLIENT_OWNED = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'expect', 'te', 'trailer', 'proxy-connection', 'http2-settings']);
const headerName = fc
  .oneof(
    fc.constantFrom(
      'idempotency-key', 'accept', 'accept-encoding', 'accept-language', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-real-ip',
      'x-request-id', 'x-http-method-override', 'origin', 'referer', 'cookie', 'if-none-match', 'range', 'content-encoding', '__proto__',
      'constructor', 'prototype', 'webhook-signature', 'forwarded',
    ),
    fc.string({ unit: fc.constantFrom(...TOKEN_CHARS), minLength: 1, maxLength: 20 }),
  )
  .filter((name) => !CLIENT_OWNED.has(name.toLowerCase()) && name.toLowerCase() !== 'authorization' && name.toLowerCase() !== 'content-type');

const headerValue = fc.oneof(
  latin1Value,
  fc.constantFrom('text/html', 'application/json', '*/*', 'gzip', 'br', 'deflate', 'identity', '1.2.3.4', '::1', 'bytes=0-1', 'k'.repeat(300), '', 'x'.repeat(8000)),
);

type AuthChoice = 'main' | 'spare' | 'none' | { header: string };
const authArb: fc.Arbitrary<AuthChoice> = fc.oneof(
  { weight: 10, arbitrary: fc.constant<AuthChoice>('main') },
  { weight: 1, arbitrary: fc.constant<AuthChoice>('spare') },
  { weight: 2, arbitrary: fc.constant<AuthChoice>('none') },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom('Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', 'bearer {key}', 'BEARER    {key}   ', 'Bearer {key}x', 'Bearer {key} {key}', 'Bearer sfk_',
        'Token {key}', '{key}', 'Bearer\t{key}', 'Bearer {key},Bearer {key}', 'Bearer \u00ff\u00fe', 'Bearer null', 'Bearer undefined', 'Bearer __proto__')
      .map((header) => ({ header })),
  },
  { weight: 1, arbitrary: latin1Value.map((v) => ({ header: v })) },
  { weight: 1, arbitrary: latin1Value.map((v) => ({ header: `Bearer ${v}` })) },
);

function authHeader(auth: AuthChoice): Record<string, string> {
  if (auth === 'none') return {};
  if (auth === 'main') return { authorization: `Bearer ${server.key}` };
  if (auth === 'spare') return { authorization: `Bearer ${spareKey}` };
  return { authorization: auth.header.replaceAll('{key}', server.key) };
}

const CONTENT_TYPES = [
  'application/json', 'application/json; charset=utf-8', 'Application/JSON', 'APPLICATION/JSON;CHARSET=UTF-8', 'application/json;charset=UTF-16',
  'application/json; charset=latin1', 'application/json ; foo=bar', 'application/json, text/plain', 'application/json; charset="utf-8"',
  'application/jsonp', 'application/json-patch+json', 'application/vnd.api+json', 'application/merge-patch+json', 'text/plain', 'text/html',
  'text/json', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=----x', 'application/octet-stream', '*/*', ';', 'application/',
  '/json', 'application/json; boundary="', 'json', 'application/xml',
];
const contentTypeArb: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 6, arbitrary: fc.constantFrom(...CONTENT_TYPES.slice(0, 9)) },
  { weight: 3, arbitrary: fc.constantFrom(...CONTENT_TYPES.slice(9)) },
  { weight: 1, arbitrary: latin1Value },
);

const ALL_METHODS = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('GET', 'POST', 'PATCH', 'DELETE') },
  { weight: 2, arbitrary: fc.constantFrom('PUT', 'HEAD', 'OPTIONS', 'PROPFIND') },
);

// ── serialising trees that hold raw JSON text, duplicate keys and prototype keys ────────────

class Raw {
  constructor(readonly text: string) {}
}
class Obj {
  constructor(readonly entries: [keyText: string, value: Tree][]) {}
}
type Tree = null | boolean | number | string | Raw | Obj | Tree[];

function fromValue(value: unknown): Tree {
  if (Array.isArray(value)) return value.map(fromValue);
  if (value !== null && typeof value === 'object') return new Obj(Object.entries(value).map(([k, v]) => [JSON.stringify(k), fromValue(v)]));
  return value as Tree;
}

function toText(tree: Tree): string {
  if (tree instanceof Raw) return tree.text;
  // An entry with an empty key text is raw entry text (`"__proto__":{…}`) spliced in as is.
  if (tree instanceof Obj) return `{${tree.entries.map(([k, v]) => (k === '' ? toText(v) : `${k}:${toText(v)}`)).join(',')}}`;
  if (Array.isArray(tree)) return `[${tree.map(toText).join(',')}]`;
  return JSON.stringify(tree);
}

/** Every path to a value in the tree (indices into object entries or array items). */
function pathsOf(tree: Tree, prefix: number[] = []): number[][] {
  const children = tree instanceof Obj ? tree.entries.map(([, v]) => v) : Array.isArray(tree) ? tree : [];
  return children.flatMap((child, i) => [[...prefix, i], ...pathsOf(child, [...prefix, i])]);
}

function clone(tree: Tree): Tree {
  if (tree instanceof Obj) return new Obj(tree.entries.map(([k, v]) => [k, clone(v)]));
  if (Array.isArray(tree)) return tree.map(clone);
  return tree;
}

interface Mutation {
  op: 'delete' | 'replace' | 'rekey' | 'insert' | 'duplicate';
  pathIndex: number;
  key: string;
  value: string;
}

/** Apply one mutation somewhere in (a copy of) the tree. */
function mutate(base: Tree, m: Mutation): Tree {
  const tree = clone(base);
  const paths = pathsOf(tree);
  // An insert goes into the container at a path (or the root); other operations act on the value at a path.
  const path = m.op === 'insert' ? [...(paths[m.pathIndex % (paths.length + 1)] ?? []), 0] : paths[m.pathIndex % paths.length];
  if (!path) return tree;
  let parent: Tree = tree;
  for (const i of path.slice(0, -1)) parent = parent instanceof Obj ? parent.entries[i]![1] : (parent as Tree[])[i]!;
  let last = path[path.length - 1]!;
  const value = new Raw(m.value);
  if (!(parent instanceof Obj) && !Array.isArray(parent)) {
    parent = tree; // inserting into a leaf: insert at the top instead
    last = 0;
  }
  if (parent instanceof Obj) {
    const entries = parent.entries;
    if (m.op === 'delete') entries.splice(last, 1);
    else if (m.op === 'replace') entries[last]![1] = value;
    else if (m.op === 'rekey') entries[last]![0] = m.key;
    else if (m.op === 'insert') entries.splice(Math.min(last, entries.length), 0, [m.key, value]);
    else entries.push([entries[last]![0], value]);
  } else if (Array.isArray(parent)) {
    if (m.op === 'delete') parent.splice(last, 1);
    else if (m.op === 'insert' || m.op === 'duplicate') parent.splice(last, 0, value);
    else parent[last] = value;
  }
  return tree;
}

const valueText = fc.oneof({ weight: 3, arbitrary: leafText }, { weight: 1, arbitrary: jsonText });

const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom<Mutation['op']>('delete', 'replace', 'replace', 'rekey', 'insert', 'duplicate'),
  pathIndex: fc.nat(),
  key: keyText,
  value: valueText,
});

// ── checks on what was accepted ─────────────────────────────────────────────────────────────

/** JSON as a JavaScript producer would see it: parse, then serialise again (1e400 → null, -0 → 0). */
const jsRoundTrip = (text: string): unknown => JSON.parse(JSON.stringify(JSON.parse(text.replace(/^\uFEFF/, ''))));

/** An accepted event can be read back: its payload is what was sent and still matches its schema. */
async function checkAcceptedEvent(sentText: string, res: Res): Promise<void> {
  const published = parse(res) as { id: string };
  pool.event.push(published.id);
  const got = await call(asMain('GET', `/v1/events/${published.id}`));
  expectStatus(got, 200, `GET /v1/events/${published.id} after a 202`);
  const event = parse(got) as { payload: Record<string, unknown>; deliveries: { id: string }[] };
  for (const d of event.deliveries.slice(0, 2)) pool.delivery.push(d.id);
  try {
    prepareEvent(event.payload);
  } catch (err) {
    throw new Error(
      `an accepted event is stored with a payload its own schema refuses (${(err as Error).message}):\n  sent ${clip(sentText, 400)}\n  stored ${clip(JSON.stringify(event.payload), 400)}`,
    );
  }
  const expected = jsRoundTrip(sentText) as Record<string, unknown>;
  const stored = { ...event.payload };
  if (expected.timestamp === undefined) {
    assert.equal(typeof stored.timestamp, 'string', 'a timestamp is filled in');
    delete stored.timestamp;
  }
  assert.deepEqual(stored, expected, `the stored payload differs from what was published: ${clip(sentText, 400)}`);
}

/** A webhook without the fields the delivery worker changes on its own (failure counters). */
function stable(webhook: Record<string, unknown>): Record<string, unknown> {
  const { consecutive_failures: _failures, failing_since: _since, ...rest } = webhook;
  return rest;
}

function checkWebhookShape(w: Record<string, unknown>, where: string): void {
  const fail = (why: string) => assert.fail(`${where}: ${why}: ${clip(JSON.stringify(w), 500)}`);
  if (typeof w.id !== 'string' || !/^ep_[0-9A-HJKMNP-TV-Z]{26}$/.test(w.id)) fail('bad id');
  if (typeof w.url !== 'string' || !/^https?:\/\//.test(w.url)) fail('bad url');
  if (!isSafeTarget(w.url as string)) fail('a URL the generators never produce');
  const events = w.events as unknown;
  if (!Array.isArray(events) || events.length === 0) fail('events is not a non-empty list');
  for (const e of events as unknown[]) if (e !== '*' && !EVENT_TYPE_NAMES.includes(e as string)) fail(`unknown event ${JSON.stringify(e)}`);
  if ((events as string[]).includes('*') && (events as string[]).length !== 1) fail('"*" is not alone');
  // maxLength counts code points (as JSON Schema does), not UTF-16 units.
  if (typeof w.description !== 'string' || [...w.description].length > 1000) fail('bad description');
  if (w.status !== 'enabled' && w.status !== 'disabled') fail('bad status');
  if (w.disabled_reason !== null && typeof w.disabled_reason !== 'string') fail('bad disabled_reason');
  for (const k of ['created_at', 'updated_at']) {
    if (typeof w[k] !== 'string' || Number.isNaN(Date.parse(w[k] as string))) fail(`bad ${k}`);
  }
}

/** Keys or values planted by a poisoning attempt, anywhere in a JSON answer. */
function pollutionIn(value: unknown, path = '$'): string | undefined {
  if (value === MARKER) return path;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const found = pollutionIn(v, `${path}[${i}]`);
      if (found) return found;
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'polluted' || k === 'admin' || k === 'isAdmin') return `${path}.${k}`;
      const found = pollutionIn(v, `${path}.${k}`);
      if (found) return found;
    }
  }
  return undefined;
}

// ── raw HTTP over a socket ──────────────────────────────────────────────────────────────────

/**
 * Write bytes and collect whatever comes back until the server closes the connection (every
 * request says `Connection: close`) or nothing has arrived for `idleMs`. The socket is not
 * half-closed: Node drops a response that is still being prepared when the client's FIN arrives.
 */
function rawExchange(bytes: Buffer, idleMs: number): Promise<{ data: Buffer; timedOut: boolean }> {
  return new Promise((resolve) => {
    const port = Number(new URL(server.url).port);
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (timedOut: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ data: Buffer.concat(chunks), timedOut });
    };
    let timer = setTimeout(() => finish(true), idleMs);
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      clearTimeout(timer);
      timer = setTimeout(() => finish(true), idleMs);
    });
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
    socket.on('connect', () => socket.write(bytes));
  });
}

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The first HTTP/1.x response in the bytes (Content-Length or chunked), if there is one. */
function parseFirstResponse(data: Buffer): RawAnswer | undefined {
  const headEnd = data.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const head = data.subarray(0, headEnd).toString('latin1').split('\r\n');
  const statusLine = /^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? '');
  if (!statusLine) return undefined;
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let rest = data.subarray(headEnd + 4);
  let body: Buffer;
  if (headers['content-length'] !== undefined) {
    body = rest.subarray(0, Number(headers['content-length']));
  } else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const parts: Buffer[] = [];
    for (;;) {
      const lineEnd = rest.indexOf('\r\n');
      if (lineEnd < 0) break;
      const size = parseInt(rest.subarray(0, lineEnd).toString('latin1'), 16);
      if (!(size > 0)) break;
      parts.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
      rest = rest.subarray(lineEnd + 2 + size + 2);
    }
    body = Buffer.concat(parts);
  } else {
    body = rest;
  }
  return { status: Number(statusLine[1]), headers, body: body.toString('utf8') };
}

const b = (s: string) => Buffer.from(s, 'latin1');

/** Byte sequences that are not UTF-8 (and a few that are, but are unusual). */
const BAD_UTF8: number[][] = [
  [0xff], [0xfe], [0x80], [0xbf], [0xc0, 0xaf], [0xc1, 0xbf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf],
  [0xf4, 0x90, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xfc, 0x84, 0x80, 0x80, 0x80, 0x80], [0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x98],
  [0x00], [0xef, 0xbb, 0xbf], [0xc3, 0xa9], [0xe2, 0x80, 0xa8],
];

// ── the tests ───────────────────────────────────────────────────────────────────────────────

before(async () => {
  // One attempt per delivery: the fodder endpoints never answer, and retries would only load the box.
  server = await startServer({ SOCIALFLOW_MAX_ATTEMPTS: '1' });
  sink = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => sink!.listen(0, '127.0.0.1', resolve));
  sinkPort = (sink.address() as AddressInfo).port;
  const keys = parse(await call(asMain('GET', '/v1/api-keys'))) as { data: { id: string }[] };
  assert.equal(keys.data.length, 1);
  mainKeyId = keys.data[0]!.id;
  const spare = parse(await call(asMain('POST', '/v1/api-keys'))) as { id: string; key: string };
  spareKey = spare.key;
  pool.apiKey.push(spare.id);
  pool.webhook.push(await createFodderWebhook(), await createFodderWebhook(['agent_trained']), await createFodderWebhook(['post_published', 'plugin_triggered']));
  for (const type of EVENT_TYPES) {
    const published = await call(asMain('POST', '/v1/events', type.example));
    expectStatus(published, 202, 'publishing a catalog example');
    const id = (parse(published) as { id: string }).id;
    pool.event.push(id);
    const event = parse(await call(asMain('GET', `/v1/events/${id}`))) as { deliveries: { id: string }[] };
    pool.delivery.push(...event.deliveries.map((d) => d.id));
  }
  const tested = await call(asMain('POST', `/v1/webhooks/${pool.webhook[0]}/test`, { event: 'agent_trained' }));
  expectStatus(tested, 200, 'a simulator send to a fodder webhook');
  pool.delivery.push((parse(tested) as { delivery_id: string }).delivery_id);
});

after(async () => {
  await receiver?.close();
  await server?.close();
  await new Promise((resolve) => (sink ? sink.close(resolve) : resolve(undefined)));
});

describe('hostile callers', () => {
  beforeEach(() => {
    tally = new Map();
  });
  afterEach((t) => {
    // After each property, what the generated requests got back: a quick check that the
    // generators reach the interesting answers (2xx as well as every kind of 4xx).
    if (tally.size > 0 && 'diagnostic' in t && !/^(example|afterwards):/.test(t.name)) report(t);
  });

  test('random methods, paths, ids, query strings, keys, content types and bodies on every route', { timeout: PROPERTY_TIMEOUT_MS }, async () => {
    const requestArb = fc.record({
      endpoint: fc.oneof(
        { weight: 7, arbitrary: fc.constantFrom(...ENDPOINTS) },
        { weight: 3, arbitrary: fc.tuple(ALL_METHODS, fc.constantFrom(...ROUTES, ...ROUTES, ...ODD_ROUTES)) },
        { weight: 1, arbitrary: fc.tuple(ALL_METHODS, fc.constant('random')) },
      ),
      id: idArb,
      randomPath,
      query: queryArb,
      auth: authArb,
      contentType: contentTypeArb,
      body: anyBody,
      extraHeaders: fc.array(fc.tuple(headerName, headerValue), { maxLength: 3 }),
    });
    await fc.assert(
      fc.asyncProperty(requestArb, async (spec) => {
        const [method, route] = spec.endpoint;
        const path = route === 'random' ? spec.randomPath : route.replaceAll('{id}', () => resolveId(spec.id, route));
        const headers: Record<string, string> = {};
        for (const [name, value] of spec.extraHeaders) headers[name.toLowerCase()] = value;
        Object.assign(headers, authHeader(spec.auth));
        if (spec.contentType !== undefined) headers['content-type'] = spec.contentType;
        const withBody = method !== 'GET' && method !== 'HEAD' && spec.body !== undefined;
        // Node refuses a request line and headers over 16 KiB before the app sees them (431); the
        // raw-socket property covers that. Here every request reaches the app.
        const headBytes = Buffer.byteLength(path + spec.query) + Object.entries(headers).reduce((n, [k, v]) => n + k.length + v.length + 4, 0);
        fc.pre(headBytes < 12_000);
        await send({ method, path: path + spec.query, headers, ...(withBody ? { body: spec.body } : {}) });
      }),
      runs(400),
    );
  });

  test('JSON of every shape to every route that reads a body', { timeout: PROPERTY_TIMEOUT_MS }, async () => {
    const BODY_ROUTES: [method: string, template: string][] = [
      ['POST', '/v1/webhooks'], ['PATCH', '/v1/webhooks/{webhook}'], ['POST', '/v1/webhooks/{webhook}/test'], ['POST', '/v1/events'],
      ['POST', '/v1/deliveries/{delivery}/retry'], ['POST', '/v1/webhooks/{webhook}/secret/rotate'], ['POST', '/v1/api-keys'],
      ['DELETE', '/v1/events/{event}'], ['PUT', '/v1/webhooks/{webhook}'],
    ];
    const arb = fc.record({
      route: fc.constantFrom(...BODY_ROUTES),
      index: fc.nat(),
      body: fc.oneof(
        { weight: 4, arbitrary: jsonText },
        { weight: 1, arbitrary: fc.json() },
        { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
        { weight: 1, arbitrary: brokenJsonText },
      ),
      contentType: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON'),
      idempotencyKey: fc.option(fc.oneof(latin1Value, fc.constantFrom('', ' ', 'k'.repeat(255), 'k'.repeat(256))), { freq: 4 }),
    });
    await fc.assert(
      fc.asyncProperty(arb, async ({ route: [method, template], index, body, contentType, idempotencyKey }) => {
        const path = template.replace(/\{(\w+)\}/, (_, kind: PoolKind) => pool[kind][index % pool[kind].length] ?? 'none');
        const headers: Record<string, string> = { authorization: `Bearer ${server.key}`, 'content-type': contentType };
        if (idempotencyKey !== null) headers['idempotency-key'] = idempotencyKey;
        const req = { method, path, headers, body };
        const res = await send(req);
        if (method === 'POST' && path === '/v1/events' && res.status === 202 && res.text.includes('"id"')) await checkAcceptedEvent(body, res);
        if (method === 'POST' && path === '/v1/webhooks' && res.status === 201) {
          const created = parse(res) as Record<string, unknown>;
          checkWebhookShape(created, show(req));
          assert.equal((await call(asMain('DELETE', `/v1/webhooks/${created.id}`))).status, 204);
        }
      }),
      runs(300),
    );
  });

  test('prototype-poisoning keys are refused wherever they appear, however they are spelled', { timeout: PROPERTY_TIMEOUT_MS }, async () => {
    const poisonValue = fc.constantFrom(...POISON_KEYS).map((k) => `{${JSON.stringify(k)}:${JSON.stringify(k === 'authorization' ? 'Bearer {key}' : MARKER)}}`);
    const poisonEntry = fc.oneof(
      fc.tuple(escapedKey('__proto__'), poisonValue).map(([k, v]) => `${k}:${v}`),
      fc.tuple(escapedKey('constructor'), escapedKey('prototype'), poisonValue).map(([c, p, v]) => `${c}:{${p}:${v}}`),
    );
    const BASES: [string, string, Record<string, unknown>][] = [
      ['POST', '/v1/events', EVENT_TYPES[0]!.example],
      ['POST', '/v1/events', EVENT_TYPES[3]!.example],
      ['POST', '/v1/webhooks', { url: 'https://example.invalid/poison', events: ['*'] }],
      ['PATCH', '/v1/webhooks/{webhook}', { description: 'poison' }],
      ['POST', '/v1/webhooks/{webhook}/test', { event: 'agent_trained', payload: { agent_id: 'a', memory_version: 1, action: 'reset' } }],
      ['POST', '/v1/api-keys', {}],
      ['POST', '/v1/deliveries/{delivery}/retry', {}],
    ];
    const arb = fc.record({ base: fc.nat({ max: BASES.length - 1 }), pathIndex: fc.nat(), index: fc.nat(), entry: poisonEntry });
    await fc.assert(
      fc.asyncProperty(arb, async ({ base, pathIndex, index, entry }) => {
        const [method, template, value] = BASES[base]!;
        // Put the poisoned entry into the top-level object or any object inside it.
        const tree = fromValue(value) as Obj;
        const objects: Obj[] = [tree];
        const collect = (t: Tree): void => {
          for (const child of t instanceof Obj ? t.entries.map(([, v]) => v) : Array.isArray(t) ? t : []) {
            if (child instanceof Obj) objects.push(child);
            collect(child);
          }
        };
        collect(tree);
        const target = objects[pathIndex % objects.length]!;
        target.entries.splice(pathIndex % (target.entries.length + 1), 0, ['', new Raw(entry.replace('"Bearer {key}"', JSON.stringify(`Bearer ${server.key}`)))]);
        const text = toText(tree);
        const path = template.replace(/\{(\w+)\}/, (_, kind: PoolKind) => pool[kind][index % pool[kind].length] ?? 'none');
        const req = asMain(method, path, text);
        const res = await send(req);
        if (res.status !== 400 || (parse(res) as { error: { code: string } }).error.code !== 'invalid_json') {
          throw new Error(`a body with a prototype key was not refused as invalid_json:\n  ${show(req)}\n  → ${res.status} ${clip(res.text, 300)}`);
        }
      }),
      runs(200),
    );

    // Query strings and headers named like prototype keys are just odd names.
    for (const query of ['?__proto__[polluted]=sf', '?__proto__.polluted=sf', '?constructor[prototype][polluted]=sf', '?__proto__=sf&limit=5']) {
      for (const path of [`/v1/webhooks/${pool.webhook[0]}/deliveries`, `/v1/webhooks/${pool.webhook[0]}/stats`, '/v1/webhooks', '/v1/workspace']) {
        const res = await send({ method: 'GET', path: path + query, headers: { authorization: `Bearer ${server.key}`, ['__proto__']: MARKER, constructor: MARKER } });
        assert.ok(res.status < 500);
      }
    }
  });

  test('valid events with one field mutated', { timeout: PROPERTY_TIMEOUT_MS }, async () => {
    const bases = EVENT_TYPES.map((t) => fromValue(t.example));
    const arb = fc.record({
      base: fc.nat({ max: bases.length - 1 }),
      mutations: fc.array(mutationArb, { minLength: 1, maxLength: 2 }),
      dropTimestamp: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(arb, async ({ base, mutations, dropTimestamp }) => {
        let tree: Tree = bases[base]!;
        if (dropTimestamp && tree instanceof Obj) tree = new Obj(tree.entries.filter(([k]) => k !== '"timestamp"'));
        for (const m of mutations) tree = mutate(tree, m);
        const text = toText(tree);
        const res = await send(asMain('POST', '/v1/events', text));
        if (res.status === 202) await checkAcceptedEvent(text, res);
      }),
      runs(300),
    );
  });

  test('valid webhook bodies with one field mutated, on create and on update', { timeout: PROPERTY_TIMEOUT_MS }, async () => {
    const safeUrl = fc
      .record({
        scheme: fc.constantFrom('http', 'https', 'HTTP', 'hTTpS'),
        host: fc.constantFrom('127.0.0.1:{sink}', 'example.invalid', 'EXAMPLE.invalid', 'a.b.example.invalid', 'example.invalid:443', 'example.invalid.'),
        path: fc.array(fc.oneof(hostileString.map(pct), hostileString), { maxLength: 3 }),
        query: fc.option(hostileString),
        fragment: fc.option(hostileString),
      })
      .map(({ scheme, host, path, query, fragment }) => {
        const h = host.replace('{sink}', String(sinkPort));
        return `${scheme}://${h}/${path.join('/')}${query === null ? '' : `?${query}`}${fragment === null ? '' : `#${fragment}`}`;
      });
    const eventList = fc.oneof(
      fc.constant(['*']),
      fc.subarray([...EVENT_TYPE_NAMES], { minLength: 1 }),
      fc.array(fc.oneof(fc.constantFrom(...EVENT_TYPE_NAMES, '*'), hostileString), { minLength: 0, maxLength: 4 }),
    );
    const arb = fc.record({
      update: fc.boolean(),
      url: safeUrl,
      events: eventList,
      description: fc.option(hostileString),
      status: fc.constantFrom('enabled', 'disabled'),
      settings: fc.array(
        fc.tuple(
          fc.constantFrom('max_concurrency', 'rate_limit'),
          fc.oneof(fc.constantFrom('null', '1', '10', '1000', '1001', '10000', '10001', '0', '-1', '1.5', '1e400', '"5"', 'true'), leafText),
        ),
        { maxLength: 2 },
      ),
      mutation: fc.option(mutationArb, { freq: 4 }),
      urlReplacement: fc.option(fc.oneof(safeUrl, hostileString), { freq: 3 }),
      index: fc.nat(),
    });
    await fc.assert(
      fc.asyncProperty(arb, async ({ update, url, events, description, status, settings, mutation, urlReplacement, index }) => {
        const body: Record<string, unknown> = { url: urlReplacement ?? url, events };
        if (description !== null) body.description = description;
        if (update) body.status = status;
        let tree = fromValue(body);
        for (const [name, value] of settings) (tree as Obj).entries.push([JSON.stringify(name), new Raw(value)]);
        if (mutation) tree = mutate(tree, mutation);
        const text = toText(tree);
        const target = pool.webhook[index % pool.webhook.length]!;
        const req = update ? asMain('PATCH', `/v1/webhooks/${target}`, text) : asMain('POST', '/v1/webhooks', text);
        const res = await send(req);
        if (res.status === 201 || res.status === 200) {
          const answered = parse(res) as Record<string, unknown>;
          checkWebhookShape(answered, show(req));
          const got = await call(asMain('GET', `/v1/webhooks/${answered.id}`));
          expectStatus(got, 200, 'GET /v1/webhooks/:id after the write');
          const { secret, ...withoutSecret } = answered;
          assert.deepEqual(stable(parse(got)), stable(withoutSecret), 'GET answers what the write answered');
          if (res.status === 201) {
            assert.match(String(secret), /^whsec_/);
            assert.equal((await call(asMain('DELETE', `/v1/webhooks/${answered.id}`))).status, 204);
          }
        }
      }),
      runs(300),
    );
  });

  test('deeply nested JSON', { timeout: PROPERTY_TIMEOUT_MS }, async () => {
    const nest = (kind: 'array' | 'object', depth: number) =>
      kind === 'array' ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    const PLACES: [string, string, (n: string) => string][] = [
      ['POST', '/v1/events', (n) => n],
      ['POST', '/v1/events', (n) => `{"event":"agent_trained","agent_id":"a","memory_version":1,"action":"reset","extra":${n}}`],
      ['POST', '/v1/events', (n) => `{"event":"analytics_updated","agent_id":"a","platform":"X","period_start":"2025-01-01T00:00:00Z","period_end":"2025-01-02T00:00:00Z","metrics":${n}}`],
      ['POST', '/v1/events', (n) => `{"event":"forecast_ready","agent_id":"a","forecast_id":"f","platform":"X","slots":${n}}`],
      ['POST', '/v1/webhooks/{webhook}/test', (n) => `{"event":"agent_trained","payload":{"agent_id":"a","memory_version":1,"action":"reset","extra":${n}}}`],
      ['POST', '/v1/webhooks', (n) => `{"url":"https://example.invalid/deep","events":["*"],"description":${n}}`],
      ['PATCH', '/v1/webhooks/{webhook}', (n) => `{"events":${n}}`],
      ['POST', '/v1/api-keys', (n) => n],
    ];
    const arb = fc.record({
      place: fc.nat({ max: PLACES.length - 1 }),
      kind: fc.constantFrom<'array' | 'object'>('array', 'object'),
      depth: fc.oneof(fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 2000, max: 130_000 })),
      idempotent: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(arb, async ({ place, kind, depth, idempotent }) => {
        const [method, template, wrap] = PLACES[place]!;
        const path = template.replace('{webhook}', pool.webhook[0]!);
        const req = asMain(method, path, wrap(nest(kind, depth)));
        if (idempotent) req.headers['idempotency-key'] = `deep-${depth}-${kind}-${place}`;
        const res = await send(req);
        // What was accepted can be read back.
        const accepted = parse(res) as { id?: string; event_id?: string; delivery_id?: string };
        const readBack: string[] = [];
        if (res.status === 202) readBack.push(`/v1/events/${accepted.id}`);
        if (res.status === 200 && accepted.event_id) readBack.push(`/v1/events/${accepted.event_id}`, `/v1/deliveries/${accepted.delivery_id}`);
        for (const readPath of readBack) {
          expectStatus(await call(asMain('GET', readPath)), 200, `GET ${readPath} after ${method} ${path} was accepted (depth ${depth})`);
        }
      }),
      runs(60),
    );
  });

  test('raw HTTP: bytes that are not UTF-8, odd headers, broken framing', { timeout: PROPERTY_TIMEOUT_MS }, async () => {
    const cleanTarget = fc
      .tuple(fc.constantFrom(...ROUTES), idArb, fc.constantFrom('', '?limit=5', '?window=7d', '?status=failed', '?cursor=%FF'))
      .map(([route, id, query]) => route.replaceAll('{id}', () => resolveId(id, route)) + query);
    const dirtyTarget = fc.constantFrom(
      '*', '', 'http://127.0.0.1/v1/webhooks', '//v1/webhooks', '/v1/webhooks\x00', '/v1/\xff\xfe', '/v1/webhooks?x=\xff', 'v1/webhooks',
      '/v1/web hooks', '/v1/webhooks\ttab', '/v1/webhooks\r', `/v1/${'a'.repeat(20_000)}`,
    );
    const framing = fc.oneof(
      { weight: 8, arbitrary: fc.constant('exact') },
      { weight: 2, arbitrary: fc.constant('chunked') },
      {
        weight: 3,
        arbitrary: fc.constantFrom('short', 'long', 'missing', 'negative', 'garbage', 'duplicate', 'both', 'chunked-bad', 'huge', 'plus', 'hex', 'spaces', 'zero-with-body'),
      },
    );
    const rawHeader = fc.oneof(
      { weight: 6, arbitrary: fc.tuple(headerName, latin1Value).map(([n, v]) => ({ line: `${n}: ${v}`, clean: true })) },
      {
        weight: 1,
        arbitrary: fc
          .constantFrom(
            'X-Bad Name: v', 'X-Nul: a\x00b', 'X-Ctl: a\x01b', ' X-Fold: v', 'X-Fold: a\r\n b', 'NoColon', ': empty-name', 'X-Long: ' + 'v'.repeat(20_000),
            'Host: ', 'Host: a\r\nHost: b', 'Content-Type: application/json\r\nContent-Type: text/plain', 'X-Utf8: \xc3\xa9', 'Transfer-Encoding: gzip',
            'Transfer-Encoding: chunked, identity', 'Expect: 100-continue', 'Connection: upgrade\r\nUpgrade: h2c', '\x00: v',
          )
          .map((line) => ({ line, clean: false })),
      },
    );
    const badUtf8 = fc.constantFrom(...BAD_UTF8).map((bytes) => Buffer.from(bytes).toString('latin1'));
    const BODY_TEMPLATES = [
      (x: string) => `{"event":"post_published","agent_id":"a${x}","platform":"X","post_id":"p${x}","content_preview":"${x}"}`,
      (x: string) => `{"event":"agent_trained${x}","agent_id":"a","memory_version":1,"action":"reset"}`,
      (x: string) => `{"url":"https://example.invalid/${x}","events":["*"],"description":"${x}"}`,
      (x: string) => `{"event":"agent_trained","payload":{"agent_id":"${x}","memory_version":1,"action":"reset"}}`,
      (x: string) => `${x}{"event":"post_published"}`,
      (x: string) => `{"${x}":1}`,
      (x: string) => x,
    ];
    const bodyArb = fc.oneof(
      {
        weight: 4,
        arbitrary: fc
          .tuple(fc.nat({ max: BODY_TEMPLATES.length - 1 }), fc.array(badUtf8, { minLength: 1, maxLength: 3 }))
          .map(([t, xs]) => b(BODY_TEMPLATES[t]!(xs.join('')))),
      },
      { weight: 2, arbitrary: fc.uint8Array({ maxLength: 200 }).map((u) => Buffer.from(u)) },
      { weight: 2, arbitrary: jsonText.map((t) => Buffer.from(t, 'utf8')) },
      { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
    );
    const arb = fc.record({
      method: fc.oneof(
        { weight: 8, arbitrary: fc.constantFrom('GET', 'POST', 'PATCH', 'DELETE') },
        { weight: 1, arbitrary: fc.constantFrom('get', 'G ET', 'FOO', 'PRI', 'POST\x00', '', 'CONNECT', 'TRACE', 'GET GET') },
      ),
      target: fc.oneof(
        { weight: 8, arbitrary: cleanTarget.map((t) => ({ t, clean: true })) },
        { weight: 1, arbitrary: dirtyTarget.map((t) => ({ t, clean: false })) },
      ),
      version: fc.oneof(
        { weight: 8, arbitrary: fc.constantFrom('HTTP/1.1', 'HTTP/1.0') },
        { weight: 1, arbitrary: fc.constantFrom('HTTP/2.0', 'HTTP/1.2', 'http/1.1', 'HTTP/1', '', 'HTTP/0.9', 'HTTP/1.1 ') },
      ),
      auth: fc.constantFrom('main', 'main', 'main', 'none', 'two-keys', 'latin1'),
      contentType: fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...CONTENT_TYPES.slice(0, 6)) },
        { weight: 1, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
        { weight: 1, arbitrary: badUtf8.map((x) => `application/json; charset=${x}`) },
      ),
      body: bodyArb,
      framing,
      headers: fc.array(rawHeader, { maxLength: 4 }),
    });
    await fc.assert(
      fc.asyncProperty(arb, async (spec) => {
        fc.pre(bodyIsSafe(spec.body) && !spec.target.t.includes(mainKeyId));
        const lines = [`${spec.method} ${spec.target.t} ${spec.version}`, `Host: 127.0.0.1`, 'Connection: close'];
        if (spec.auth === 'main') lines.push(`Authorization: Bearer ${server.key}`);
        if (spec.auth === 'two-keys') lines.push(`Authorization: Bearer ${server.key}`, 'Authorization: Bearer sfk_wrong');
        if (spec.auth === 'latin1') lines.push(`Authorization: Bearer \xe9\xff${server.key}`);
        lines.push(`Content-Type: ${spec.contentType}`);
        for (const h of spec.headers) lines.push(h.line);
        const body = spec.body;
        let payload = body;
        const n = body.length;
        switch (spec.framing) {
          case 'exact': lines.push(`Content-Length: ${n}`); break;
          case 'short': lines.push(`Content-Length: ${Math.max(0, n - 3)}`); break;
          case 'long': lines.push(`Content-Length: ${n + 10}`); break;
          case 'missing': break;
          case 'negative': lines.push('Content-Length: -1'); break;
          case 'garbage': lines.push('Content-Length: abc'); break;
          case 'duplicate': lines.push(`Content-Length: ${n}`, `Content-Length: ${n + 1}`); break;
          case 'both': lines.push(`Content-Length: ${n}`, 'Transfer-Encoding: chunked'); break;
          case 'huge': lines.push('Content-Length: 99999999999999999999999'); break;
          case 'plus': lines.push(`Content-Length: +${n}`); break;
          case 'hex': lines.push(`Content-Length: 0x${n.toString(16)}`); break;
          case 'spaces': lines.push(`Content-Length: ${n} ${n}`); break;
          case 'zero-with-body': lines.push('Content-Length: 0'); break;
          case 'chunked':
            lines.push('Transfer-Encoding: chunked');
            payload = Buffer.concat([b(n > 0 ? `${n.toString(16)}\r\n` : ''), body, b(n > 0 ? '\r\n0\r\n\r\n' : '0\r\n\r\n')]);
            break;
          case 'chunked-bad':
            lines.push('Transfer-Encoding: chunked');
            payload = Buffer.concat([b(`${(n + 5).toString(16)}zz\r\n`), body, b('\r\n0\r\n')]);
            break;
        }
        const head = b(`${lines.join('\r\n')}\r\n\r\n`);
        const bytes = Buffer.concat([head, payload]);
        // Well framed: what Node's HTTP parser hands to the app. Anything else (bad request line,
        // headers or framing, or a head near Node's 16 KiB limit) is answered by Node itself.
        const wellFramed =
          head.length <= 15 * 1024 &&
          ['GET', 'POST', 'PATCH', 'DELETE'].includes(spec.method) &&
          spec.target.clean &&
          ['HTTP/1.1', 'HTTP/1.0'].includes(spec.version) &&
          (spec.framing === 'exact' || (spec.framing === 'chunked' && spec.version === 'HTTP/1.1')) &&
          spec.headers.every((h) => h.clean) &&
          /^[\x20-\x7e]*$/.test(spec.contentType);
        const where = `raw request ${JSON.stringify(clip(bytes.toString('latin1').replace(server.key, '<main key>'), 600))}`;
        // A well-framed request is answered and the connection closed; a broken one may leave the
        // server waiting for bytes that never come, which is fine: it only must not answer 5xx.
        const { data, timedOut } = await rawExchange(bytes, wellFramed ? 15_000 : 300);
        assertAlive();
        if (spec.method === 'DELETE') await syncWebhookPool();
        const first = parseFirstResponse(data);
        count(first ? { status: first.status, contentType: first.headers['content-type'] ?? '', text: first.body } : { status: 0, contentType: '', text: '' });
        for (const m of data.toString('latin1').matchAll(/HTTP\/1\.[01] (\d{3}) /g)) {
          if (Number(m[1]) >= 500) throw new Error(`a ${m[1]} for caller input:\n  ${where}\n  → ${clip(data.toString('latin1'), 600)}`);
        }
        if (!wellFramed) return;
        const answer = first;
        if (!answer) throw new Error(`no HTTP answer to a well-framed request${timedOut ? ' (timed out)' : ''}:\n  ${where}\n  → ${JSON.stringify(data.toString('latin1'))}`);
        checkAnswer(where, answer.status, answer.headers['content-type'] ?? '', answer.body);
      }),
      runs(250),
    );
  });

  // Inputs the properties found, kept as named examples so each one reads as its own failure.
  const deepEvent = (depth: number) => `{"event":"agent_trained","agent_id":"a","memory_version":1,"action":"reset","extra":${'['.repeat(depth)}${']'.repeat(depth)}}`;
  const EXAMPLES: [name: string, request: () => Req][] = [
    ['a path segment that decodes to invalid UTF-8 (%ED%A0%80)', () => asMain('GET', '/v1/webhooks/%ED%A0%80')],
    ['a stray % in the path', () => asMain('GET', '/v1/events/%')],
    ['a bad escape in an unknown path', () => asMain('GET', '/%Z/')],
    ['an id longer than the router allows (101 characters)', () => asMain('GET', `/v1/webhooks/${'x'.repeat(101)}`)],
    ['a NUL in an id', () => asMain('GET', '/v1/events/evt_%00')],
    ['a NUL in the deliveries cursor', () => asMain('GET', `/v1/webhooks/${pool.webhook[0]}/deliveries?cursor=%00`)],
    ['a NUL in the deliveries event filter', () => asMain('GET', `/v1/webhooks/${pool.webhook[0]}/deliveries?event=%00`)],
    ['a NUL in a new webhook description', () => asMain('POST', '/v1/webhooks', { url: `http://127.0.0.1:${sinkPort}/nul`, events: ['agent_trained'], description: 'a\u0000b' })],
    ['a NUL in a changed webhook description', () => asMain('PATCH', `/v1/webhooks/${pool.webhook[0]}`, { description: 'a\u0000b' })],
    ['an event nested 20 000 levels deep', () => asMain('POST', '/v1/events', deepEvent(20_000))],
    [
      'an event nested 20 000 levels deep, with an Idempotency-Key',
      () => {
        const req = asMain('POST', '/v1/events', deepEvent(20_000));
        req.headers['idempotency-key'] = 'deep';
        return req;
      },
    ],
    ['a simulator payload nested 20 000 levels deep', () => asMain('POST', `/v1/webhooks/${pool.webhook[0]}/test`, `{"event":"agent_trained","payload":${deepEvent(20_000)}}`)],
  ];
  for (const [name, request] of EXAMPLES) {
    test(`example: ${name}`, async () => {
      const req = request();
      const res = await callChecked(req);
      if (req.method === 'POST' && req.path === '/v1/webhooks' && res.status === 201) {
        await call(asMain('DELETE', `/v1/webhooks/${(parse(res) as { id: string }).id}`));
      }
    });
  }

  test('example: a number beyond double range (1e400) in a numeric field is refused, not stored as null', async () => {
    const text = '{"event":"plugin_triggered","agent_id":"a","plugin_id":"p","skill":"s","status":"succeeded","duration_ms":1e400}';
    const res = await callChecked(asMain('POST', '/v1/events', text));
    if (res.status === 202) await checkAcceptedEvent(text, res);
  });

  test('example: a lone surrogate in a description reads back as the write answered it', async () => {
    const created = await call(asMain('POST', '/v1/webhooks', `{"url":"http://127.0.0.1:${sinkPort}/s","events":["agent_trained"],"description":"a\\ud800b"}`));
    checkAnswer('a lone surrogate in a description', created.status, created.contentType, created.text);
    if (created.status !== 201) return; // refusing it is fine too
    const answered = parse(created) as { id: string; description: string };
    const got = await call(asMain('GET', `/v1/webhooks/${answered.id}`));
    await call(asMain('DELETE', `/v1/webhooks/${answered.id}`));
    assert.equal(JSON.stringify((parse(got) as { description: string }).description), JSON.stringify(answered.description));
  });

  test('example: the deepest event accepted can still be read back', { timeout: 120_000 }, async () => {
    // Find, by bisection, the deepest nesting each route accepts (the service's stack decides
    // where), and read every accepted event back: what was accepted must stay readable.
    const routes: [string, (depth: number) => Req][] = [
      ['POST /v1/events', (depth) => asMain('POST', '/v1/events', deepEvent(depth))],
      ['the simulator', (depth) => asMain('POST', `/v1/webhooks/${pool.webhook[0]}/test`, `{"event":"agent_trained","payload":${deepEvent(depth)}}`)],
    ];
    for (const [name, make] of routes) {
      let accepted = 1;
      let refused = 40_000;
      while (refused - accepted > 1) {
        const depth = Math.floor((accepted + refused) / 2);
        const res = await call(make(depth));
        count(res);
        if (res.status !== 200 && res.status !== 202) {
          refused = depth;
          continue;
        }
        accepted = depth;
        const body = parse(res) as { id?: string; event_id?: string };
        const readPath = `/v1/events/${body.id ?? body.event_id}`;
        expectStatus(await call(asMain('GET', readPath)), 200, `GET ${readPath} after ${name} accepted an event nested ${depth} deep`);
      }
    }
  });

  test('afterwards: the server is up, and logged no failure', () => {
    assertAlive();
    const failures = serverErrors();
    assert.deepEqual(failures.map((l) => clip(l, 800)).slice(0, 5), [], `${failures.length} error or fatal log lines during the run`);
  });

  test('afterwards: Object.prototype in the server was not polluted', async () => {
    assertAlive();
    // A request without a key is refused: a polluted `authorization` would authenticate it.
    const anonymous = await call({ method: 'GET', path: '/v1/webhooks', headers: {} });
    expectStatus(anonymous, 401, 'GET /v1/webhooks without a key');
    // Required fields are still required: a polluted `post_id` would satisfy the schema.
    const { post_id: _omitted, ...withoutPostId } = EVENT_TYPES[0]!.example;
    const missing = await call(asMain('POST', '/v1/events', withoutPostId));
    expectStatus(missing, 400, 'an event without post_id');
    assert.match(missing.text, /post_id/);
    const noUrl = await call(asMain('POST', '/v1/webhooks', { events: ['*'] }));
    expectStatus(noUrl, 400, 'a webhook without url');
    // Fresh objects carry nothing planted.
    const workspace = await call(asMain('GET', '/v1/workspace'));
    assert.equal(workspace.status, 200);
    assert.deepEqual(Object.keys(parse(workspace)).sort(), ['id', 'max_attempts', 'retention_seconds']);
    const created = await call(asMain('POST', '/v1/webhooks', { url: `http://127.0.0.1:${sinkPort}/probe`, events: ['agent_trained'] }));
    expectStatus(created, 201, 'creating a webhook');
    const published = await call(asMain('POST', '/v1/events', EVENT_TYPES[2]!.example));
    expectStatus(published, 202, 'publishing an event');
    const event = await call(asMain('GET', `/v1/events/${(parse(published) as { id: string }).id}`));
    assert.deepEqual((parse(event) as { payload: unknown }).payload, EVENT_TYPES[2]!.example);
    for (const path of ['/v1/workspace', '/v1/webhooks', `/v1/webhooks/${(parse(created) as { id: string }).id}`, '/v1/api-keys', '/v1/event-types']) {
      const res = await call(asMain('GET', path));
      expectStatus(res, 200, path);
      assert.equal(pollutionIn(parse(res)), undefined, `${path} carries a planted key or value: ${clip(res.text, 500)}`);
    }
    for (const res of [created, published, event]) assert.equal(pollutionIn(parse(res)), undefined, res.text);
  });

  test('afterwards: every webhook is well formed and readable, with its log and stats', { timeout: 120_000 }, async () => {
    const list = await call(asMain('GET', '/v1/webhooks'));
    expectStatus(list, 200, 'GET /v1/webhooks');
    const webhooks = (parse(list) as { data: Record<string, unknown>[] }).data;
    assert.ok(webhooks.length >= 3, 'the fodder webhooks are listed');
    assert.equal(new Set(webhooks.map((w) => w.id)).size, webhooks.length, 'no webhook is listed twice');
    for (const listed of webhooks) {
      checkWebhookShape(listed, 'GET /v1/webhooks');
      const { stats, ...webhook } = listed;
      assert.equal(typeof (stats as { attempts_24h: unknown }).attempts_24h, 'number');
      const one = await call(asMain('GET', `/v1/webhooks/${webhook.id}`));
      expectStatus(one, 200, `GET /v1/webhooks/${webhook.id}`);
      assert.deepEqual(stable(parse(one)), stable(webhook));
      const secret = await call(asMain('GET', `/v1/webhooks/${webhook.id}/secret`));
      expectStatus(secret, 200, `GET /v1/webhooks/${webhook.id}/secret`);
      assert.match((parse(secret) as { secret: string }).secret, /^whsec_/);
      for (const window of ['24h', '7d']) {
        const stats = await call(asMain('GET', `/v1/webhooks/${webhook.id}/stats?window=${window}`));
        expectStatus(stats, 200, `GET /v1/webhooks/${webhook.id}/stats?window=${window}`);
      }
      // Walk the whole log: newest first, no repeats, every entry this webhook's.
      const seen = new Set<string>();
      let cursor: string | null = null;
      let previous: string | undefined;
      for (let page = 0; page < 200; page++) {
        const res: Res = await call(asMain('GET', `/v1/webhooks/${webhook.id}/deliveries?limit=100${cursor ? `&cursor=${cursor}` : ''}`));
        expectStatus(res, 200, `GET /v1/webhooks/${webhook.id}/deliveries`);
        const body = parse(res) as { data: { id: string; webhook_id: string; status: string; event_id: string }[]; next_cursor: string | null };
        for (const d of body.data) {
          assert.equal(d.webhook_id, webhook.id);
          assert.ok(['pending', 'succeeded', 'failed'].includes(d.status), d.status);
          assert.ok(!seen.has(d.id), `delivery ${d.id} listed twice`);
          if (previous !== undefined) assert.ok(d.id < previous, 'newest first');
          previous = d.id;
          seen.add(d.id);
        }
        cursor = body.next_cursor;
        if (!cursor) break;
      }
      const sample = [...seen].slice(0, 3);
      for (const id of sample) {
        const detail = await call(asMain('GET', `/v1/deliveries/${id}`));
        expectStatus(detail, 200, `GET /v1/deliveries/${id}`);
        const d = parse(detail) as { webhook_id: string; event_id: string; attempts: unknown[] };
        assert.equal(d.webhook_id, webhook.id);
        assert.ok(Array.isArray(d.attempts));
        const ev = await call(asMain('GET', `/v1/events/${d.event_id}`));
        expectStatus(ev, 200, `GET /v1/events/${d.event_id}`);
      }
    }
    const keys = await call(asMain('GET', '/v1/api-keys'));
    const live = (parse(keys) as { data: { id: string; revoked_at: string | null }[] }).data.find((k) => k.id === mainKeyId);
    assert.equal(live?.revoked_at, null, 'the main key is still live');
  });

  test('afterwards: a normal publish is still delivered, signed, to a real receiver', { timeout: 60_000 }, async () => {
    receiver = await startReceiver();
    const created = await call(asMain('POST', '/v1/webhooks', { url: receiver.url, events: ['post_published'], description: 'after the storm' }));
    expectStatus(created, 201, 'creating the receiver webhook');
    const { id, secret } = parse(created) as { id: string; secret: string };
    receiver.secrets = [secret];
    const postId = `after-${Date.now()}`;
    const published = await call(asMain('POST', '/v1/events', { ...EVENT_TYPES[0]!.example, post_id: postId }));
    expectStatus(published, 202, 'publishing to the receiver');
    const eventId = (parse(published) as { id: string }).id;
    const got = await waitFor(() => receiver!.received.find((r) => (r.verified as { post_id?: string } | undefined)?.post_id === postId), {
      timeoutMs: 20_000,
      what: 'the delivery to the receiver',
    });
    assert.equal(got.headers['webhook-id'], eventId);
    await waitFor(
      async () => {
        const res = await call(asMain('GET', `/v1/webhooks/${id}/deliveries`));
        const d = (parse(res) as { data: { event_id: string; status: string }[] }).data.find((x) => x.event_id === eventId);
        return d?.status === 'succeeded';
      },
      { timeoutMs: 10_000, what: 'the delivery to be logged as succeeded' },
    );
  });
});

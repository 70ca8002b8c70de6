/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core) against the real
 * server and real receivers on loopback. The steps share one browser and build on each other:
 * sign in, register an endpoint, use the simulator, read the logs, retry a failed delivery, and
 * so on. Screenshots of the main pages go to test-artifacts/screenshots/ (and to docs/screenshots/
 * with DASHBOARD_SCREENSHOTS_TO_DOCS=1). The browser console must stay free of errors.
 *
 *   node --import tsx --test test/e2e/dashboard.test.ts
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { answer, startReceiver, type Receiver } from '../helpers/receiver.js';
import { freePort, ROOT, startServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = join(ROOT, 'test-artifacts', 'screenshots');
const DOCS_SHOTS = join(ROOT, 'docs', 'screenshots');
const WAIT = 15_000;

/** Build web/dist when it is missing or older than its sources, so the server serves this code. */
function ensureDashboardBuilt(): void {
  const built = join(ROOT, 'web', 'dist', 'index.html');
  const newest = (p: string): number => {
    const s = statSync(p);
    if (!s.isDirectory()) return s.mtimeMs;
    return Math.max(s.mtimeMs, ...readdirSync(p).map((f) => newest(join(p, f))));
  };
  const sources = ['index.html', 'vite.config.ts', 'src', 'public'].map((p) => join(ROOT, 'web', p));
  if (existsSync(built) && statSync(built).mtimeMs >= Math.max(...sources.map(newest))) return;
  const vite = join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  const r = spawnSync(process.execPath, [vite, 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`vite build failed:\n${r.stdout}\n${r.stderr}`);
}

interface ConsoleProblem {
  text: string;
  url: string;
}

describe('dashboard', { timeout: 180_000 }, () => {
  let server: TestServer;
  let good: Receiver;
  let flaky: Receiver;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const problems: ConsoleProblem[] = [];
  /**
   * Error answers a step provokes on purpose (a wrong key, a refused URL). Each one shows up once
   * as a response and once as Chromium's "Failed to load resource" console line; both are let
   * through exactly once.
   */
  const allowance = new Map<string, number>();
  const allow = (path: string, status: number) => {
    for (const channel of ['response', 'console']) {
      const k = `${channel} ${status} ${path}`;
      allowance.set(k, (allowance.get(k) ?? 0) + 1);
    }
  };
  const consume = (channel: string, path: string, status: number): boolean => {
    const k = `${channel} ${status} ${path}`;
    const n = allowance.get(k) ?? 0;
    if (n === 0) return false;
    allowance.set(k, n - 1);
    return true;
  };
  const leakedKey: string[] = [];
  let endpointId = '';
  let flakyId = '';

  const shot = async (name: string, fullPage = true) => {
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage, animations: 'disabled' });
  };

  before(async () => {
    ensureDashboardBuilt();
    [server, good, flaky] = await Promise.all([startServer({
        SOCIALFLOW_MAX_ATTEMPTS: '3',
        // Loopback receivers are allowed by name; other private addresses are refused, as in production.
        SOCIALFLOW_ALLOW_PRIVATE_TARGETS: 'false',
        SOCIALFLOW_ALLOWED_TARGETS: '127.0.0.1/32',
      }), startReceiver(), startReceiver('/flaky')]);
    profile = mkdtempSync(join(tmpdir(), 'sf-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 860 },
      deviceScaleFactor: 1,
      locale: 'en-GB',
      timezoneId: 'UTC',
    });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    context.setDefaultTimeout(WAIT);
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      const status = /status of (\d{3})/.exec(msg.text())?.[1];
      const url = msg.location().url;
      if (status && url && consume('console', new URL(url).pathname, Number(status))) return;
      problems.push({ text: msg.text(), url });
    });
    page.on('pageerror', (err) => problems.push({ text: `uncaught: ${err.message}`, url: '' }));
    page.on('request', (req) => {
      if (req.url().includes(server.key)) leakedKey.push(req.url());
    });
    page.on('response', (res) => {
      const url = new URL(res.url());
      if (res.status() >= 400 && !consume('response', url.pathname, res.status())) {
        problems.push({ text: `HTTP ${res.status()} for ${res.request().method()} ${url.pathname}`, url: res.url() });
      }
    });
  });

  after(async () => {
    await context?.close();
    await Promise.all([server?.close(), good?.close(), flaky?.close()]);
    if (profile) rmSync(profile, { recursive: true, force: true });
    if (process.env.DASHBOARD_SCREENSHOTS_TO_DOCS === '1' && existsSync(SHOTS)) {
      mkdirSync(DOCS_SHOTS, { recursive: true });
      for (const f of readdirSync(SHOTS)) if (f.endsWith('.png')) copyFileSync(join(SHOTS, f), join(DOCS_SHOTS, f));
    }
  });

  it('serves the app with a strict CSP and a favicon', async () => {
    const res = await fetch(`${server.url}/`, { headers: { accept: 'text/html' } });
    assert.equal(res.status, 200);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'self'/);
    const html = await res.text();
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline scripts');
    assert.doesNotMatch(html, /<style|\sstyle=/, 'no inline styles');
    const icon = await fetch(`${server.url}/favicon.svg`);
    assert.equal(icon.status, 200);
  });

  it('refuses a wrong key with a clear message, then signs in', async () => {
    await page.goto(server.url);
    const key = page.getByLabel('Workspace API key');
    await key.waitFor();
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Enter your workspace API key.').waitFor();

    allow('/v1/workspace', 401);
    await key.fill('sfk_wrong_key_000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'That API key was not accepted' }).waitFor();
    assert.equal(await key.getAttribute('aria-invalid'), 'true');
    await shot('sign-in-error');

    await key.fill(server.key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    await page.getByRole('heading', { name: 'No endpoints yet' }).waitFor();
    assert.ok(!page.url().includes(server.key), 'the key is never in the address');
    assert.equal(await page.evaluate('sessionStorage.length > 0'), true);
    await shot('webhooks-empty');
  });

  it('registers an endpoint through the form, with inline URL validation and the secret shown once', async () => {
    await page.getByRole('link', { name: 'Register your first endpoint' }).click();
    await page.getByRole('heading', { name: 'Register an endpoint' }).waitFor();
    const url = page.getByLabel('Endpoint URL');

    // Checked in the browser as soon as the field is left.
    await url.fill('not a url');
    await url.blur();
    await page.getByText('Enter a full URL that starts with https://').waitFor();
    await url.fill('ftp://example.com/hook');
    await page.getByText('Only http:// and https:// URLs can receive webhooks').waitFor();
    await shot('register-invalid-url');

    // Refused by the server (a private address): the API's message appears under the field.
    allow('/v1/webhooks', 400);
    await url.fill('http://10.1.2.3/hook');
    await page.getByRole('checkbox', { name: /post_published/ }).check();
    await page.getByRole('button', { name: 'Register endpoint' }).click();
    await page.locator('.field-error').filter({ hasText: 'private' }).waitFor();
    assert.equal(await url.getAttribute('aria-invalid'), 'true');
    await shot('register-refused-url');

    await url.fill(good.url);
    await page.getByRole('checkbox', { name: /forecast_ready/ }).check();
    await page.getByLabel('Description (optional)').fill('Local test receiver');
    await shot('register-form');
    await page.getByRole('button', { name: 'Register endpoint' }).click();

    await page.getByRole('heading', { name: 'Endpoint registered' }).waitFor();
    const secret = await page.getByRole('textbox', { name: 'Signing secret' }).inputValue();
    assert.match(secret, /^whsec_/);
    good.secrets = [secret];
    await page.getByText('How to verify a request').waitFor();
    await page.getByRole('button', { name: 'Copy secret' }).click();
    await page.getByText('Copied').first().waitFor();
    assert.equal(await page.evaluate('navigator.clipboard.readText()'), secret);
    await shot('register-created');

    const list = await server.api('GET', '/v1/webhooks');
    const created = list.body.data.find((w: { url: string }) => w.url === good.url);
    assert.ok(created, 'the endpoint exists');
    assert.deepEqual([...created.events].sort(), ['forecast_ready', 'post_published']);
    endpointId = created.id;
  });

  it('sends a test event from the simulator and shows the 200', async () => {
    good.behave(answer(200, '{"received":true}', { 'content-type': 'application/json', 'x-receiver': 'e2e' }));
    await page.getByRole('link', { name: 'Send a test event' }).click();
    await page.getByRole('heading', { name: 'Send a test event' }).waitFor();
    await page.getByLabel('Event type').selectOption('post_published');
    const payload = page.getByLabel('Payload (JSON)');
    assert.match(await payload.inputValue(), /"event": "post_published"/);

    // A broken edit is caught before anything is sent.
    await payload.fill('{ "event": ');
    await page.getByRole('button', { name: 'Send test event' }).click();
    await page.getByText('The payload is not valid JSON').waitFor();
    await page.getByRole('button', { name: 'Reset to example' }).click();

    await page.getByRole('button', { name: 'Send test event' }).click();
    const outcome = page.locator('section.outcome');
    await outcome.getByRole('heading', { name: 'Delivered' }).waitFor();
    assert.equal((await outcome.locator('.status-code').textContent())?.trim(), '200');
    await outcome.getByText('x-receiver').waitFor();
    await outcome.getByText('"received": true').waitFor();
    await shot('simulator-delivered');

    const got = await waitFor(() => good.received.find((r) => r.verified !== undefined), { what: 'a verified test request' });
    assert.equal((got.verified as { event: string }).event, 'post_published');
  });

  it('explains a network error in the simulator in plain words', async () => {
    const nobody = await server.api('POST', '/v1/webhooks', { url: `http://127.0.0.1:${await freePort()}/gone`, events: ['*'] });
    assert.equal(nobody.status, 201);
    await page.goto(`${server.url}/#/webhooks/${nobody.body.id}/simulator`);
    await page.getByRole('button', { name: 'Send test event' }).click();
    const outcome = page.locator('section.outcome');
    await outcome.getByRole('heading', { name: 'Not delivered' }).waitFor();
    await outcome.getByText('No response').waitFor();
    await outcome.getByText(/Could not connect to the endpoint/).waitFor();
    await shot('simulator-network-error');
    assert.equal((await server.api('DELETE', `/v1/webhooks/${nobody.body.id}`)).status, 204);
  });

  it('shows a published event in the logs with its attempts', async () => {
    const before = good.received.length;
    const published = await server.api('POST', '/v1/events', {
      event: 'forecast_ready',
      agent_id: 'sf_e2e',
      forecast_id: 'fc_e2e_1',
      platform: 'X',
      slots: [{ at: '2030-01-01T09:00:00Z', probability: 0.9 }],
    });
    assert.equal(published.status, 202);
    await waitFor(() => good.received.length > before, { what: 'the real delivery' });

    await page.goto(`${server.url}/#/webhooks/${endpointId}/logs`);
    await page.getByRole('heading', { name: 'Delivery log' }).waitFor();
    await page.getByText('Logs are kept for 7 days').waitFor();
    const row = page.locator('table.deliveries tbody tr').filter({ hasText: 'forecast_ready' }).filter({ hasText: 'Succeeded' });
    await row.waitFor();
    // The test delivery from the simulator is listed too, marked as one.
    await page.locator('table.deliveries tbody tr').filter({ hasText: 'post_published' }).filter({ hasText: 'test' }).waitFor();

    // Filters narrow the list down.
    await page.getByLabel('Event type').selectOption('post_published');
    await page.locator('table.deliveries tbody tr').filter({ hasText: 'forecast_ready' }).waitFor({ state: 'detached' });
    await page.getByLabel('Status').selectOption('failed');
    await page.getByText('No deliveries match these filters.').waitFor();
    await page.getByLabel('Status').selectOption('');
    await page.getByLabel('Event type').selectOption('');
    await row.waitFor();
    await shot('logs');

    await row.getByRole('link').click();
    await page.getByRole('heading', { name: 'forecast_ready delivery' }).waitFor();
    const attempt = page.locator('li.attempt').first();
    await attempt.getByText('Attempt 1').waitFor();
    await attempt.getByText('HTTP 200').first().waitFor();
    await attempt.getByText('webhook-signature').waitFor();
    await attempt.getByText('"forecast_id": "fc_e2e_1"').waitFor();
    await shot('delivery-succeeded');
  });

  it('pages through a long log with "Load more"', async () => {
    const before = good.received.length;
    for (let i = 0; i < 20; i++) {
      const r = await server.api('POST', '/v1/events', { event: 'post_published', agent_id: 'sf_e2e', platform: 'X', post_id: `p${i}`, content_preview: `Post ${i}` });
      assert.equal(r.status, 202);
    }
    await waitFor(() => good.received.length >= before + 20, { what: '20 more deliveries' });
    await page.goto(`${server.url}/#/webhooks/${endpointId}/logs`);
    await page.getByRole('button', { name: 'Refresh' }).click();
    const rows = page.locator('table.deliveries tbody tr');
    await waitFor(async () => (await rows.count()) === 20, { what: 'a first page of 20' });
    await page.getByRole('button', { name: 'Load more' }).click();
    await waitFor(async () => (await rows.count()) === 22, { what: 'all 22 deliveries' });
    await page.getByText('That’s all of them.').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Load more' }).count(), 0);
  });

  it('shows the attempts of a failing receiver and retries the delivery into success from the UI', async () => {
    flaky.behave(answer(503, 'maintenance'));
    const created = await server.api('POST', '/v1/webhooks', { url: flaky.url, events: ['*'], description: 'Flaky receiver' });
    assert.equal(created.status, 201);
    flakyId = created.body.id;
    flaky.secrets = [created.body.secret];
    const published = await server.api('POST', '/v1/events', {
      event: 'agent_trained',
      agent_id: 'sf_e2e',
      memory_version: 3,
      action: 'updated',
    });
    assert.equal(published.status, 202);

    await page.goto(`${server.url}/#/webhooks/${flakyId}/logs`);
    const row = page.locator('table.deliveries tbody tr').filter({ hasText: 'agent_trained' }).filter({ hasText: 'Failed' });
    await row.waitFor();
    await row.getByText('3 of 3').waitFor();
    await row.getByRole('link').click();

    await page.getByRole('heading', { name: 'agent_trained delivery' }).waitFor();
    assert.equal(await page.locator('li.attempt').count(), 3);
    await page.getByText('The endpoint answered with HTTP 503').first().waitFor();
    await page.locator('li.attempt').first().getByText('maintenance').waitFor();
    await shot('delivery-failed');

    flaky.behave(answer(200, 'back'));
    await page.getByRole('button', { name: 'Retry delivery' }).click();
    await page.getByText('The retry succeeded.').waitFor();
    await page.locator('li.attempt').first().getByText('Attempt 4').waitFor();
    assert.ok(flaky.received.at(-1)?.verified, 'the retried request is signed');
    await shot('delivery-retried');
  });

  it('charts the attempts and latency with uPlot, for 24 hours and 7 days', async () => {
    await page.getByRole('navigation', { name: 'Endpoint sections' }).getByRole('link', { name: 'Overview' }).click();
    await page.getByRole('heading', { name: 'Delivery activity' }).waitFor();
    await page.locator('.plot-attempts .uplot canvas').waitFor();
    await page.locator('.plot-latency .uplot canvas').waitFor();
    await page.getByText(/In the last 24 hours: 4 attempts, 1 succeeded, 3 failed/).waitFor();
    await page.getByText('Last 7 days').click();
    await page.getByText(/In the last 7 days: 4 attempts/).waitFor();
    await page.getByText('Last 24 hours').click();
    await page.getByText(/In the last 24 hours/).waitFor();
    await shot('endpoint-overview');
  });

  it('reveals, copies and rotates the secret', async () => {
    await page.getByRole('button', { name: 'Reveal secret' }).click();
    const value = page.getByRole('textbox', { name: 'Signing secret' });
    assert.equal(await value.inputValue(), flaky.secrets[0]);
    await page.getByRole('button', { name: 'Rotate secret…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Rotate the signing secret?' });
    await dialog.getByRole('button', { name: 'Rotate secret' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const rotated = await page.getByRole('textbox', { name: 'New signing secret' }).inputValue();
    assert.notEqual(rotated, flaky.secrets[0]);
    await page.getByText(/signed with both the old and the new secret/).waitFor();
    flaky.secrets = [rotated];
  });

  it('lists the endpoints with status and 24 h health', async () => {
    await page.getByRole('navigation', { name: 'Developer' }).getByRole('link', { name: 'Webhooks' }).click();
    const rows = page.locator('table.webhooks tbody tr');
    await rows.filter({ hasText: good.url }).getByText('100%').waitFor();
    await rows.filter({ hasText: flaky.url }).getByText('25%').waitFor();
    await rows.filter({ hasText: flaky.url }).getByText('All events').waitFor();
    await shot('webhooks-list');
  });

  it('edits, disables, enables and deletes an endpoint', async () => {
    await page.locator('table.webhooks').getByRole('link', { name: flaky.url }).click();
    await page.getByRole('navigation', { name: 'Endpoint sections' }).getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Edit endpoint' }).waitFor();
    await page.getByLabel('Description (optional)').fill('Flaky receiver, renamed');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Changes saved.').waitFor();

    await page.getByRole('button', { name: 'Disable endpoint' }).click();
    await page.locator('.endpoint-head').getByText('Disabled').waitFor();
    await page.getByText('This endpoint is disabled and receives no events.').waitFor();
    await shot('endpoint-settings');
    await page.getByRole('button', { name: 'Enable endpoint' }).click();
    await page.locator('.endpoint-head').getByText('Enabled').waitFor();

    await page.getByRole('button', { name: 'Delete endpoint…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete this endpoint?' });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.getByRole('button', { name: 'Delete endpoint…' }).click();
    await dialog.getByRole('button', { name: 'Delete endpoint' }).click();
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    await page.locator('table.webhooks').getByText(good.url).waitFor();
    assert.equal(await page.locator('table.webhooks').getByText(flaky.url).count(), 0);
    assert.equal((await server.api('GET', `/v1/webhooks/${flakyId}`)).status, 404);
  });

  it('documents every event type', async () => {
    await page.getByRole('navigation', { name: 'Developer' }).getByRole('link', { name: 'Event types' }).click();
    await page.getByRole('heading', { name: 'Event types', level: 1 }).waitFor();
    const section = page.locator('#type-plugin_triggered');
    await section.getByText('A custom skill or plugin ran.').waitFor();
    await section.getByText('JSON Schema').click();
    await section.getByText('"required"').waitFor();
    await section.getByText('"plugin_id": "plg_hashtag_suggester"').waitFor();
    await page.evaluate('window.scrollTo(0, 0)');
    await shot('event-types', false);
  });

  it('works on a narrow window and from the keyboard', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${server.url}/#/webhooks`);
    await page.locator('table.webhooks').getByText(good.url).waitFor();
    const overflow = async () => Number(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'));
    assert.ok((await overflow()) <= 0, 'no sideways scrolling on the list');
    await shot('narrow-webhooks');
    await page.goto(`${server.url}/#/webhooks/${endpointId}/logs`);
    await page.locator('table.deliveries tbody tr').first().waitFor();
    await shot('narrow-logs');
    assert.ok((await overflow()) <= 0, 'no sideways scrolling on the logs');
    await page.setViewportSize({ width: 1280, height: 860 });

    // Keyboard only: from the page start, Tab reaches the nav and Enter follows it.
    await page.goto(`${server.url}/#/webhooks/${endpointId}`);
    await page.reload();
    await page.getByRole('heading', { name: 'Details' }).waitFor();
    await page.keyboard.press('Tab'); // skip link
    await page.keyboard.press('Tab'); // sign out
    await page.keyboard.press('Tab'); // Webhooks
    await page.keyboard.press('Tab'); // Event types
    assert.equal(await page.evaluate('document.activeElement && document.activeElement.textContent'), 'Event types');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Event types', level: 1 }).waitFor();
    // Focus moves to the new page's heading, so the next Tab continues from there.
    await waitFor(async () => (await page.evaluate('document.activeElement && document.activeElement.tagName')) === 'H1', {
      what: 'focus on the heading',
    });
  });

  it('signs out and forgets the key', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Workspace API key').waitFor();
    assert.equal(await page.evaluate('sessionStorage.length'), 0);
    await page.reload();
    await page.getByLabel('Workspace API key').waitFor();
  });

  it('kept the key out of every URL and the console free of errors', () => {
    assert.deepEqual(leakedKey, []);
    assert.deepEqual(problems, []);
  });
});

/**
 * Generates the files that are derived from code: docs/configuration.md (from config.ts) and
 * docs/openapi.json (from the routes' schemas). `npm run docs` writes them; the test suite fails
 * when the committed copies differ from what the code would generate.
 */
import { writeFileSync } from 'node:fs';
import { pino } from 'pino';
import { buildApp } from '../src/api/app.js';
import { loadConfig, SETTINGS } from '../src/config.js';
import { retryPolicyOf } from '../src/services/context.js';
import { SqliteStore } from '../src/store/sqlite/index.js';
import { VERSION } from '../src/version.js';

export function configurationMarkdown(): string {
  const rows = Object.values(SETTINGS).map((s) => {
    const value = Array.isArray(s.default) ? s.default.join(',') : String(s.default);
    return `| \`${s.env}\` | ${value === '' ? '(empty)' : `\`${value}\``} | ${s.description} |`;
  });
  return [
    '# Configuration',
    '',
    'Every setting is an environment variable, read once at start-up. A malformed value stops the',
    'process with a message naming the variable. This file is generated from `src/config.ts` by',
    '`npm run docs`; a test fails when it is out of date.',
    '',
    '| Variable | Default | Meaning |',
    '| --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

export async function openApiDocument(): Promise<string> {
  const config = loadConfig({});
  const store = new SqliteStore({ path: ':memory:', synchronous: 'OFF' });
  const ctx = { store, config, policy: retryPolicyOf(config), send: async () => ({ ok: true, durationMs: 0 }), checkUrl: () => {}, now: Date.now };
  const app = await buildApp({ ctx, logger: pino({ level: 'silent' }), secretGraceMs: 0, version: VERSION });
  await app.ready();
  const doc = `${JSON.stringify(app.swagger(), null, 2)}\n`;
  await app.close();
  await store.close();
  return doc;
}

if (process.argv[1]?.endsWith('gen-docs.ts')) {
  writeFileSync(new URL('../docs/configuration.md', import.meta.url), configurationMarkdown());
  writeFileSync(new URL('../docs/openapi.json', import.meta.url), await openApiDocument());
  console.log('wrote docs/configuration.md and docs/openapi.json');
}

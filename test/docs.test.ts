/** Generated and hand-written docs stay in step with the code they describe. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERROR_CODES } from '../src/domain/errors.js';
import { configurationMarkdown, openApiDocument } from '../scripts/gen-docs.js';

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

test('docs/api.md lists every error code with its status, and no others', () => {
  const rows = [...read('docs/api.md').matchAll(/^\| `([a-z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]);
  assert.deepEqual(
    rows,
    Object.entries(ERROR_CODES).map(([code, { status }]) => [code, status]),
  );
});

test('docs/configuration.md is what config.ts generates (run `npm run docs`)', () => {
  assert.equal(read('docs/configuration.md'), configurationMarkdown());
});

test('docs/openapi.json is what the routes generate (run `npm run docs`)', async () => {
  assert.equal(read('docs/openapi.json'), await openApiDocument());
});

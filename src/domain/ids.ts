/**
 * Identifiers. Every record id is a type prefix plus a 26-character, time-ordered string
 * (48 bits of milliseconds, then 80 random bits, in Crockford base32). Ordering ids as text
 * therefore orders records by creation time, which is what cursor pagination relies on.
 */
import { randomFillSync } from 'node:crypto';

export const ID_PREFIX = {
  workspace: 'ws_',
  apiKey: 'key_',
  endpoint: 'ep_',
  event: 'evt_',
  delivery: 'del_',
  attempt: 'att_',
} as const;

export type IdKind = keyof typeof ID_PREFIX;

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

const RANDOM_CHARS = 16;
/** Random bytes are drawn from the OS in bulk: one call per 256 ids instead of one per id. */
const randomPool = Buffer.alloc(RANDOM_CHARS * 256);
let poolOffset = randomPool.length;

/** A new id of the given kind, e.g. `evt_01JZ…`. */
export function newId(kind: IdKind, now = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  if (poolOffset + RANDOM_CHARS > randomPool.length) {
    randomFillSync(randomPool);
    poolOffset = 0;
  }
  let rand = '';
  for (let i = 0; i < RANDOM_CHARS; i++) rand += ALPHABET[randomPool[poolOffset++]! % 32];
  return ID_PREFIX[kind] + time + rand;
}


/** True when `value` looks like an id of this kind; used to answer 404 early for malformed ids. */
export function isId(kind: IdKind, value: string): boolean {
  const prefix = ID_PREFIX[kind];
  return value.startsWith(prefix) && /^[0-9A-HJKMNP-TV-Z]{26}$/.test(value.slice(prefix.length));
}

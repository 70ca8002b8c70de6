/**
 * A cheap guard against deeply nested JSON. Nothing in the API needs more than a few levels, and
 * very deep documents exhaust the stack of JSON.stringify and the validators later on, so they are
 * refused before parsing. One linear pass; brackets inside strings do not count.
 */
export const MAX_JSON_DEPTH = 64;

export function jsonDepthExceeds(text: string, limit = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

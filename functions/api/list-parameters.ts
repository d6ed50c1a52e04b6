/** Query parameters shared by the list routes: `limit` (1-100), `cursor`, and the list filters. */
import { MAX_CURSOR_LENGTH } from '#domain/cursors.ts';
import { ValidationFailed } from '#domain/errors.ts';
import { MAX_LABEL_VALUE_LENGTH } from '#domain/environment-spec.ts';
import { DEFAULT_LIMIT, MAX_LIMIT } from '#contract/api-schema.ts';

/** `limit`: an integer from 1 to `max` (100 for the lists, 1000 for logs), `byDefault` when absent. */
export function parseLimit(raw: string | undefined, { byDefault = DEFAULT_LIMIT, max = MAX_LIMIT } = {}): number {
  if (raw === undefined) return byDefault;
  const limit = Number(raw);
  if (!new RegExp(`^\\d{1,${String(max).length}}$`).test(raw) || limit < 1 || limit > max) {
    throw new ValidationFailed(`limit must be an integer from 1 to ${max}`, [{ path: 'limit', message: `expected 1-${max}, got "${raw.slice(0, 20)}"` }]);
  }
  return limit;
}

/** a cursor is opaque, but never longer than any cursor this API hands out */
export function parseCursor(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (raw === '' || raw.length > MAX_CURSOR_LENGTH) {
    throw new ValidationFailed('invalid cursor', [{ path: 'cursor', message: 'not a cursor returned by this list' }]);
  }
  return raw;
}

/** `repository` and `branch` filter on label values: 1-256 characters, as a label value is (environment-spec.ts labelMap) */
export function parseLabelFilter(name: string, raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (raw.length < 1 || raw.length > MAX_LABEL_VALUE_LENGTH) {
    throw new ValidationFailed(`${name} must be 1-${MAX_LABEL_VALUE_LENGTH} characters (a label value)`, [
      { path: name, message: `expected 1-${MAX_LABEL_VALUE_LENGTH} characters, got ${raw.length}` },
    ]);
  }
  return raw;
}

/** Every query parameter must be one the route knows: a misspelt filter is a 400, never silently ignored. */
export function refuseUnknownParameters(query: Record<string, string | undefined>, known: readonly string[], what: string): void {
  const unknown = Object.keys(query).filter((key) => !known.includes(key));
  if (unknown.length) {
    throw new ValidationFailed('unknown query parameters', unknown.slice(0, 20).map((path) => ({ path: path.slice(0, 100), message: `not a parameter of ${what}` })));
  }
}

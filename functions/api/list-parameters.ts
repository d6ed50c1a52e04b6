/** Query parameters shared by the list routes: `limit` (1-100) and `cursor`. */
import { ValidationFailed } from '#domain/errors.ts';

export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 100;

export function parseLimit(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_LIMIT;
  const limit = Number(raw);
  if (!/^\d+$/.test(raw) || limit < 1 || limit > MAX_LIMIT) {
    throw new ValidationFailed(`limit must be an integer from 1 to ${MAX_LIMIT}`, [{ path: 'limit', message: `expected 1-${MAX_LIMIT}, got "${raw}"` }]);
  }
  return limit;
}

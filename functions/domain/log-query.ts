/**
 * The rules of `GET /v1/environments/{name}/logs`: what `since` and `cursor` may be (`limit` is
 * 1-1000, default 100), and what a cursor holds. Pure.
 *
 * A logs cursor is a position in time, not CloudWatch's nextToken: base64url JSON
 * `{q, t, n}` where `q` is a hash of the environment's name (a cursor of another
 * environment's logs is refused), `t` the timestamp (ms) of the last line handed out and `n`
 * how many lines at exactly `t` were handed out. The next page starts at `t` and skips those
 * `n`. So the cursor needs no signature: a forged one can only name a point in time of the
 * same environment's logs, which `since` names anyway, and the set of tasks is read again
 * for every page (a task started since the last page is included).
 */
import { createHash } from 'node:crypto';
import { ValidationFailed } from './errors.ts';

export const DEFAULT_LOG_LIMIT = 100;
export const MAX_LOG_LIMIT = 1000;

/** One line of an environment's container output, as the API answers it (oldest first). */
export interface LogLine {
  /** when the container wrote it (ISO time) */
  at: string;
  message: string;
  /** the ECS task id (the last part of its ARN) */
  task: string;
  container: string;
}

export interface LogPosition {
  /** the first timestamp (ms) to read */
  from: number;
  /** lines at exactly `from` already handed out */
  skip: number;
}

/** ISO 8601 date-time with a zone (`2026-01-05T10:00:00Z`, `...+02:00`, fractions allowed). */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** Whether the date part names a day of its month: Date.parse rolls 2026-02-30 over to March 2. */
function isCalendarDate(raw: string): boolean {
  const [year, month, day] = raw.slice(0, 10).split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(year, month - 1, day)).getUTCDate() === day;
}

/** `since`: an ISO time with its zone, not in the future; the time in ms. */
export function parseSince(raw: string | undefined, now: number): number | undefined {
  if (raw === undefined) return undefined;
  const invalid = (message: string) => new ValidationFailed('invalid since', [{ path: 'since', message }]);
  const at = ISO_TIME.test(raw) && isCalendarDate(raw) ? Date.parse(raw) : NaN;
  if (Number.isNaN(at)) throw invalid('expected an ISO 8601 time with a zone, e.g. 2026-01-05T10:00:00Z');
  if (at > now) throw invalid('must not be in the future');
  return at;
}

const nameHash = (name: string) => createHash('sha256').update(`logs:${name}`).digest('base64url').slice(0, 22);

export function encodeLogCursor(name: string, position: LogPosition): string {
  return Buffer.from(JSON.stringify({ q: nameHash(name), t: position.from, n: position.skip })).toString('base64url');
}

/** The position a cursor of `name`'s logs continues from; anything else is a 400 naming `cursor`. */
export function decodeLogCursor(cursor: string, name: string): LogPosition {
  const invalid = () => new ValidationFailed('invalid cursor', [{ path: 'cursor', message: 'not a cursor returned by this list' }]);
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) throw invalid();
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw invalid();
  const { q, t, n, ...rest } = payload as Record<string, unknown>;
  if (Object.keys(rest).length || q !== nameHash(name)) throw invalid();
  // a time CloudWatch accepts (ms since 1970, up to year 9999) and a count a page can have handed out
  if (!Number.isSafeInteger(t) || (t as number) < 0 || (t as number) > 253_402_300_799_999) throw invalid();
  if (!Number.isSafeInteger(n) || (n as number) < 0 || (n as number) > 1_000_000) throw invalid();
  return { from: t as number, skip: n as number };
}

/**
 * Where a read starts: the latest of `since`, the cursor's position and `notBefore` (a repository
 * caller reads nothing written before its environment was created, as with its events).
 */
export function startOfRead(since: number | undefined, cursor: LogPosition | undefined, notBefore: number | undefined): LogPosition {
  const floor = Math.max(since ?? 0, notBefore ?? 0);
  if (cursor && cursor.from >= floor) return cursor;
  return { from: floor, skip: 0 };
}

/** The cursor position after `lines` (oldest first, at least one) read from `start`. */
export function positionAfter(lines: readonly { timestamp: number }[], start: LogPosition): LogPosition {
  const last = lines[lines.length - 1]!.timestamp;
  const atLast = lines.filter((line) => line.timestamp === last).length;
  return { from: last, skip: atLast + (last === start.from ? start.skip : 0) };
}

/**
 * The rules of `GET /v1/environments/{name}/logs`: what `since` and `cursor` may be (`limit` is
 * 1-1000, default 100), and what a cursor holds. Pure.
 *
 * A logs cursor is a position in time, not CloudWatch's nextToken: a cursor of the lists'
 * kind (./cursors.ts: bound to its query, here the environment's name, and validated in full)
 * whose position is `t`, the timestamp (ms) of the last line handed out, and `n`, how many lines
 * at exactly `t` were handed out. The next page starts at `t` and skips those `n`. A forged
 * cursor can only name a point in time of the same environment's logs, which `since` names
 * anyway, and a skip a page walk can reach (at most MAX_LOG_SKIP): the lines a request reads stay
 * bounded whatever the cursor says. The set of tasks is read again for every page (a task
 * started since the last page is included).
 */
import { decodeCursor, encodeCursor } from './cursors.ts';
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

/**
 * The most lines at one millisecond a cursor skips. A read fetches `skip + limit + 1` lines per
 * group of 100 streams (functions/adapters/environment-logs.ts), so this bounds what any cursor
 * costs: with the largest page (1,000) at most 11,001 lines, two FilterLogEvents calls of 10,000
 * events ("limit: the maximum number of events to return. The default is 10,000", CloudWatch Logs
 * API Reference, FilterLogEvents). A walk reaches it only when more than 10,000 lines share one
 * millisecond; it then goes on at the next millisecond (`positionAfter`), leaving the rest of
 * that millisecond unread rather than reading ever more per request.
 */
export const MAX_LOG_SKIP = 10_000;
/** The latest time a cursor may name: CloudWatch's timestamps run to the end of year 9999 (ms since 1970). */
const MAX_LOG_TIME = 253_402_300_799_999;

const logsQuery = (name: string) => `logs:${name}`;

export function encodeLogCursor(name: string, position: LogPosition): string {
  return encodeCursor(logsQuery(name), { t: String(position.from), n: String(position.skip) });
}

/** A decimal count from 0 to `max`, written as this API writes it (no sign, no leading zero). */
const countUpTo = (value: string, max: number) => /^(0|[1-9]\d{0,15})$/.test(value) && Number(value) <= max;

/** The position a cursor of `name`'s logs continues from; anything else is a 400 naming `cursor`. */
export function decodeLogCursor(cursor: string, name: string): LogPosition {
  const key = decodeCursor(cursor, logsQuery(name), ['t', 'n'], (k) => countUpTo(k.t!, MAX_LOG_TIME) && countUpTo(k.n!, MAX_LOG_SKIP));
  return { from: Number(key.t), skip: Number(key.n) };
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

/**
 * The cursor position after `lines` (oldest first, at least one) read from `start`; past
 * MAX_LOG_SKIP lines at one millisecond, the next millisecond.
 */
export function positionAfter(lines: readonly { timestamp: number }[], start: LogPosition): LogPosition {
  const last = lines[lines.length - 1]!.timestamp;
  const atLast = lines.filter((line) => line.timestamp === last).length;
  const skip = atLast + (last === start.from ? start.skip : 0);
  return skip > MAX_LOG_SKIP ? { from: last + 1, skip: 0 } : { from: last, skip };
}

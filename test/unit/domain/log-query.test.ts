/** The logs route's rules (functions/domain/log-query.ts): `since`, the cursor, where a read starts and where the next one does. */
import { describe, expect, it } from 'vitest';
import { decodeLogCursor, encodeLogCursor, MAX_LOG_SKIP, parseSince, positionAfter, startOfRead } from '../../../functions/domain/log-query.ts';
import { encodeCursor } from '../../../functions/domain/cursors.ts';
import { ValidationFailed } from '../../../functions/domain/errors.ts';

const NOW = Date.parse('2026-12-07T10:00:00.000Z');

describe('since', () => {
  it.each([
    ['2026-12-07T09:00:00Z', Date.parse('2026-12-07T09:00:00Z')],
    ['2026-12-07T11:00:00+02:00', Date.parse('2026-12-07T09:00:00Z')],
    ['2026-12-07T09:00:00.123456789Z', Date.parse('2026-12-07T09:00:00.123Z')],
    ['2026-12-07T10:00Z', NOW],
  ])('%s is accepted', (raw, ms) => expect(parseSince(raw, NOW)).toBe(ms));

  it.each(['2026-12-07', '2026-12-07T09:00:00', '1733560000000', 'now', '2026-13-40T99:00:00Z', '2026-12-07T10:00:01Z', '2026-02-30T00:00:00Z', '2026-04-31T00:00:00Z', '2026-11-00T00:00:00Z'])('%s is a 400 naming since', (raw) => {
    expect(() => parseSince(raw, NOW)).toThrow(ValidationFailed);
  });
});

describe('cursor', () => {
  it('round-trips a position of the same environment only', () => {
    const cursor = encodeLogCursor('pr-1', { from: NOW, skip: 3 });
    expect(decodeLogCursor(cursor, 'pr-1')).toEqual({ from: NOW, skip: 3 });
    expect(() => decodeLogCursor(cursor, 'pr-2')).toThrow(ValidationFailed);
  });

  it('is a cursor of the lists\' kind, bound to logs:<name> and validated in full: a forged one is a 400', () => {
    const forged = (k: Record<string, unknown>, query = 'logs:pr-1') => encodeCursor(query, k);
    expect(decodeLogCursor(forged({ t: String(NOW), n: '0' }), 'pr-1')).toEqual({ from: NOW, skip: 0 });
    expect(decodeLogCursor(forged({ t: '0', n: String(MAX_LOG_SKIP) }), 'pr-1')).toEqual({ from: 0, skip: MAX_LOG_SKIP });
    for (const k of [
      { t: String(NOW), n: String(MAX_LOG_SKIP + 1) }, // more than a walk can skip
      { t: String(NOW), n: '1000000' },
      { t: '-1', n: '0' }, { t: '1.5', n: '0' }, { t: String(NOW), n: '0.5' }, { t: '01', n: '0' }, { t: String(NOW), n: '+1' },
      { t: '253402300800000', n: '0' }, // after year 9999
      { t: NOW, n: 0 }, // numbers, not the strings this API writes
      { t: String(NOW) }, { t: String(NOW), n: '0', x: '1' },
    ]) expect(() => decodeLogCursor(forged(k), 'pr-1'), JSON.stringify(k)).toThrow(ValidationFailed);
    expect(() => decodeLogCursor(forged({ t: String(NOW), n: '0' }, 'events:pr-1'), 'pr-1')).toThrow(ValidationFailed);
    // the former shape ({q, t, n}: a hash anyone could compute and a skip of up to 1,000,000)
    const former = Buffer.from(JSON.stringify({ q: 'x', t: NOW, n: 1_000_000 })).toString('base64url');
    expect(() => decodeLogCursor(former, 'pr-1')).toThrow(ValidationFailed);
  });

  it('past MAX_LOG_SKIP lines of one millisecond, the walk goes on at the next one (a cursor never asks for more)', () => {
    const burst = Array.from({ length: 600 }, () => ({ timestamp: 5 }));
    expect(positionAfter(burst, { from: 5, skip: MAX_LOG_SKIP - 600 })).toEqual({ from: 5, skip: MAX_LOG_SKIP });
    expect(positionAfter(burst, { from: 5, skip: MAX_LOG_SKIP - 599 })).toEqual({ from: 6, skip: 0 });
    const next = positionAfter(burst, { from: 5, skip: MAX_LOG_SKIP });
    expect(decodeLogCursor(encodeLogCursor('pr-1', next), 'pr-1')).toEqual({ from: 6, skip: 0 });
  });

  it('a read starts at the latest of since, the cursor and the floor, skipping only at the cursor', () => {
    expect(startOfRead(undefined, undefined, undefined)).toEqual({ from: 0, skip: 0 });
    expect(startOfRead(100, { from: 200, skip: 2 }, 50)).toEqual({ from: 200, skip: 2 });
    expect(startOfRead(300, { from: 200, skip: 2 }, 50)).toEqual({ from: 300, skip: 0 });
    expect(startOfRead(undefined, { from: 200, skip: 2 }, 500)).toEqual({ from: 500, skip: 0 });
  });

  it('the next read starts at the last line, skipping every line of that millisecond already handed out', () => {
    expect(positionAfter([{ timestamp: 1 }, { timestamp: 5 }, { timestamp: 5 }], { from: 0, skip: 0 })).toEqual({ from: 5, skip: 2 });
    expect(positionAfter([{ timestamp: 5 }, { timestamp: 5 }], { from: 5, skip: 3 })).toEqual({ from: 5, skip: 5 });
    expect(positionAfter([{ timestamp: 5 }, { timestamp: 7 }], { from: 5, skip: 3 })).toEqual({ from: 7, skip: 1 });
  });
});

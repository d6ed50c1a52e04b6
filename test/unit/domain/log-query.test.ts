/** The logs route's rules (functions/domain/log-query.ts): `since`, the cursor, where a read starts and where the next one does. */
import { describe, expect, it } from 'vitest';
import { decodeLogCursor, encodeLogCursor, parseSince, positionAfter, startOfRead } from '../../../functions/domain/log-query.ts';
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

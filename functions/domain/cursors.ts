/**
 * The opaque cursors of the API's lists (environments, events, logs). Pure.
 *
 * Cursors are validated in full rather than signed (no key to keep or rotate): a cursor is
 * base64url JSON `{q, k}` where `q` is a hash of the query it continues (for the environment
 * lists: index, partition, filters; for events and logs: the environment) and `k` its position
 * (a DynamoDB ExclusiveStartKey, or a point in an environment's logs); on the way back in, `k`
 * must have exactly the position's attributes, every one a non-empty string of at most 2048 bytes
 * (DynamoDB's partition-key limit; sort keys are held to their exact shape by `valid`, far under
 * 1024), and the exact values the query itself could produce
 * (`valid`). So a forged cursor can only name a position inside the same query (what paging
 * through it shows anyway, at the cost of reading it) and anything else is a 400 naming
 * `cursor`, never an invalid key sent to AWS.
 */
import { createHash } from 'node:crypto';
import { ValidationFailed } from './errors.ts';

/** The longest cursor a list hands out: a longer one is refused before it is decoded. */
export const MAX_CURSOR_LENGTH = 4096;
const MAX_KEY_BYTES = 2048;

interface CursorPayload {
  /** a hash of the query the cursor continues: a cursor is only valid for the same query */
  q: string;
  k: Record<string, unknown>;
}

const queryHash = (queryId: string) => createHash('sha256').update(queryId).digest('base64url').slice(0, 22);

export function encodeCursor(queryId: string, position: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify({ q: queryHash(queryId), k: position } satisfies CursorPayload)).toString('base64url');
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;

export const invalidCursor = () => new ValidationFailed('invalid cursor', [{ path: 'cursor', message: 'not a cursor returned by this list' }]);

/**
 * Decodes a cursor made by `encodeCursor` for the same query; `valid` checks the position's
 * values (all strings by then). Anything else is a 400 naming `cursor`.
 */
export function decodeCursor(
  cursor: string,
  queryId: string,
  keyNames: readonly string[],
  valid: (key: Record<string, string>) => boolean,
): Record<string, unknown> {
  if (typeof cursor !== 'string' || cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalidCursor();
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (!isPlainObject(payload) || Object.keys(payload).sort().join() !== 'k,q' || payload.q !== queryHash(queryId)) throw invalidCursor();
  const key = payload.k;
  if (!isPlainObject(key)) throw invalidCursor();
  const names = Object.keys(key).sort();
  const expected = [...new Set(keyNames)].sort();
  if (names.length !== expected.length || names.some((n, i) => n !== expected[i])) throw invalidCursor();
  for (const value of Object.values(key)) {
    if (typeof value !== 'string' || value === '' || Buffer.byteLength(value, 'utf8') > MAX_KEY_BYTES) throw invalidCursor();
  }
  if (!valid(key as Record<string, string>)) throw invalidCursor();
  return key;
}

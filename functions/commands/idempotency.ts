/**
 * `Idempotency-Key` on mutating routes (README "Using the API"), atomic: the key is claimed BEFORE
 * the mutation runs, so two concurrent identical requests never both run it.
 *
 *   1. claim: a conditional put of an IN_PROGRESS item (caller + key, fingerprint, a random token,
 *      `claimedUntil` = now + CLAIM_SECONDS). Only one request can hold the claim.
 *   2. the claim is taken: read the item. Another fingerprint -> 422; COMPLETED -> replay the answer
 *      (`idempotent-replayed: true`); IN_PROGRESS -> 409 problem with `Retry-After` (as the IETF
 *      draft "The Idempotency-Key HTTP Header Field" asks of a retry while the first is processed).
 *   3. the claim holder runs the route: an answer < 300 is stored (COMPLETED, replayed for 24 h);
 *      an answer >= 300 or a thrown error (DomainError 4xx, or a 5xx) releases the claim, so a
 *      retry runs again. Complete and release are conditioned on the token, so a request whose
 *      claim lapsed (it outlived CLAIM_SECONDS) cannot overwrite or delete its successor's.
 *   A Lambda that dies mid-request leaves an IN_PROGRESS item: after CLAIM_SECONDS any retry takes
 *   it over (the claim condition accepts a lapsed claim).
 *
 * Why not Powertools' Idempotency utility (@aws-lambda-powertools/idempotency 2.35, weighed first):
 *   - our single table's composite key: its DynamoDBPersistenceLayer puts every record under ONE
 *     static partition key (`staticPkValue` + `sortKeyAttr`), a hot partition and not the
 *     `IDEM#<caller>#<key>` / `IDEM` item docs/design.md describes (or we override its getKey);
 *   - canonical JSON: its `deepSort` recurses (no bound on depth) and sorts keys case-insensitively
 *     with a comparator that never returns 0, so `{"a":1,"A":2}` and `{"A":2,"a":1}` hash
 *     differently (checked against 2.35) — we would hash our own fingerprint anyway;
 *   - releasing and completing are unconditional DeleteItem/UpdateItem: a request whose claim
 *     lapsed and was taken over deletes or overwrites its successor's record; and a failed delete
 *     surfaces as IdempotencyPersistenceLayerError, turning the route's 4xx into a 500;
 *   - it stores whatever the function returns (keeping only answers < 300 means throwing through
 *     it), IdempotencyAlreadyInProgressError carries no time for `Retry-After`, the in-progress
 *     expiry needs a registered Lambda context, and it marshalls the answer without
 *     `removeUndefinedValues`, unlike our adapters' document client.
 *   Adapting around all of that would leave little of it; the protocol below is four conditional
 *   writes (functions/adapters/idempotency-store.ts), tested against DynamoDB Local.
 */
import { createHash, randomUUID } from 'node:crypto';
import { canonicalJson } from '#domain/canonical-json.ts';
import { IdempotencyKeyInProgress, IdempotencyKeyReused, ValidationFailed } from '#domain/errors.ts';
import { claimKey, completeKey, readKey, releaseKey, type IdempotencyRecord, type StoredAnswer } from '#adapters/idempotency-store.ts';
import { logger } from '#runtime/powertools.ts';
import { IDEMPOTENCY_KEY_PATTERN } from '#contract/api-schema.ts';

/** how long a completed answer replays */
export const IDEMPOTENCY_WINDOW_SECONDS = 24 * 3600;
/**
 * How long an in-progress claim holds before another request may take it over: twice the API
 * functions' 29 s timeout (infra/aws/lambda-function.ts), so a live first attempt is never overtaken.
 */
export const CLAIM_SECONDS = 60;
/** what a duplicate that finds the first request still running is told to wait */
export const RETRY_AFTER_SECONDS = 1;
/** a caller longer than this (bytes) is hashed in the item key, which DynamoDB bounds at 2,048 bytes */
const MAX_SCOPE_BYTES = 512;

export interface IdempotentRequest {
  /** whose key it is (`stableIdentity` in functions/domain/caller.ts: an IAM role across its sessions, an OIDC caller's repository and sub): keys of different callers never meet */
  scope: string;
  /** the Idempotency-Key header */
  key: string;
  method: string;
  path: string;
  /** the parsed JSON body (undefined when none) */
  body: unknown;
}

export interface IdempotentAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** 400 unless the key is 1-255 characters of letters, digits and `._:-`. */
export function checkIdempotencyKey(key: string): void {
  if (!IDEMPOTENCY_KEY_PATTERN.test(key)) {
    throw new ValidationFailed('Idempotency-Key must be 1-255 characters of letters, digits and ._:-', [
      { path: 'header:Idempotency-Key', message: 'invalid' },
    ]);
  }
}

/** sha256 of the canonical JSON of method, path and body: what "the same request" means. */
export function requestFingerprint(method: string, path: string, body: unknown): string {
  return createHash('sha256').update(canonicalJson([method.toUpperCase(), path, body ?? null])).digest('hex');
}

function scopedKey(scope: string, key: string): string {
  const caller = Buffer.byteLength(scope, 'utf8') <= MAX_SCOPE_BYTES ? scope : `sha256:${createHash('sha256').update(scope).digest('hex')}`;
  return `${caller}#${key}`;
}

const replayed = (answer: StoredAnswer): IdempotentAnswer => ({ ...answer, headers: { ...answer.headers, 'idempotent-replayed': 'true' } });


async function release(key: string, token: string): Promise<void> {
  try {
    await releaseKey(key, token);
  } catch (error) {
    // the claim lapses by itself after CLAIM_SECONDS; the request's own outcome matters more
    logger.warn('could not release an Idempotency-Key claim; it lapses by itself', { error: error as Error, claimSeconds: CLAIM_SECONDS });
  }
}

async function runClaimed(key: string, token: string, run: () => Promise<IdempotentAnswer>): Promise<IdempotentAnswer> {
  let answer: IdempotentAnswer;
  try {
    answer = await run();
  } catch (error) {
    await release(key, token);
    throw error;
  }
  if (answer.status >= 300) {
    await release(key, token);
    return answer;
  }
  // what a replay sends is what this request sends: the JSON of its body
  const kept: StoredAnswer = { status: answer.status, body: answer.body, headers: answer.headers ?? {} };
  try {
    const completed = await completeKey(key, token, kept, Math.floor(Date.now() / 1000) + IDEMPOTENCY_WINDOW_SECONDS);
    if (!completed) logger.warn('an Idempotency-Key claim lapsed before its request finished; its answer is not kept', { claimSeconds: CLAIM_SECONDS });
  } catch (error) {
    // the mutation happened: answer it, and free the key rather than replaying nothing
    logger.error('could not store the answer of an Idempotency-Key', { error: error as Error });
    await release(key, token);
  }
  return answer;
}

/**
 * Runs `run` at most once per caller, key and request within IDEMPOTENCY_WINDOW_SECONDS (see the
 * module comment): the answer of the run or a replay; IdempotencyKeyInProgress (409) or IdempotencyKeyReused (422).
 */
export async function runIdempotently(request: IdempotentRequest, run: () => Promise<IdempotentAnswer>): Promise<IdempotentAnswer> {
  checkIdempotencyKey(request.key);
  const key = scopedKey(request.scope, request.key);
  const fingerprint = requestFingerprint(request.method, request.path, request.body);
  const token = randomUUID();
  let holder: IdempotencyRecord | undefined;
  // a lost claim whose holder is gone by the time we read (released or lapsed) is tried again, a few times
  for (let attempt = 0; attempt < 3; attempt++) {
    const now = Date.now();
    const claim = { fingerprint, token, claimedUntil: now + CLAIM_SECONDS * 1000, purgeAt: Math.floor(now / 1000) + IDEMPOTENCY_WINDOW_SECONDS };
    if (await claimKey(key, claim, now)) return runClaimed(key, token, run);
    holder = await readKey(key, Date.now());
    if (!holder) continue;
    if (holder.fingerprint !== fingerprint) throw new IdempotencyKeyReused();
    if (holder.state === 'COMPLETED' && holder.answer) {
      logger.info('Idempotency-Key replayed', { status: holder.answer.status });
      return replayed(holder.answer);
    }
    if (holder.claimedUntil >= Date.now()) break;
  }
  logger.info('Idempotency-Key in progress: 409', { claimedUntil: holder && new Date(holder.claimedUntil).toISOString() });
  throw new IdempotencyKeyInProgress(RETRY_AFTER_SECONDS, holder && new Date(holder.claimedUntil).toISOString());
}

/**
 * The storage half of `Idempotency-Key` (the protocol and its reasons: functions/commands/idempotency.ts).
 * One item per caller and key, `IDEM#<caller>#<key>` / `IDEM`:
 *   - `state: IN_PROGRESS`: claimed by the request holding `token` until `claimedUntil` (epoch ms);
 *   - `state: COMPLETED`: `answer` replays until `purgeAt`.
 * Every write is conditional (DynamoDB Developer Guide, "Condition expressions" > "Conditional put":
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html),
 * so two concurrent requests cannot both claim a key, and a request whose lapsed claim was taken over
 * can neither complete nor release the new owner's claim (the `token` condition).
 * Items expire through DynamoDB TTL on `purgeAt` (epoch seconds); TTL deletes late ("typically within
 * a few days": https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ttl-expired-items.html),
 * so the claim condition and reads treat an item past its `purgeAt` as absent.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamodbClient } from './clients/dynamodb.ts';
import { idempotencyKey, tableName } from './table-keys.ts';

export interface StoredAnswer {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

export type IdempotencyState = 'IN_PROGRESS' | 'COMPLETED';

export interface IdempotencyRecord {
  state: IdempotencyState;
  fingerprint: string;
  /** epoch ms until which an IN_PROGRESS claim holds */
  claimedUntil: number;
  /** epoch s: the item's end (TTL) */
  purgeAt: number;
  answer?: StoredAnswer;
}

export interface Claim {
  fingerprint: string;
  /** names the claiming request: only it can complete or release the claim */
  token: string;
  claimedUntil: number;
  purgeAt: number;
}

const seconds = (ms: number) => Math.floor(ms / 1000);

async function conditional(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/**
 * Claims `key` for the request `claim.token`: succeeds when no live item holds it (none, past its
 * `purgeAt`, or an IN_PROGRESS claim past its `claimedUntil`). False when another item holds it.
 */
export function claimKey(key: string, claim: Claim, nowMs: number): Promise<boolean> {
  return conditional(() =>
    dynamodbClient().send(
      new PutCommand({
        TableName: tableName(),
        Item: { ...idempotencyKey(key), kind: 'IDEMPOTENCY', state: 'IN_PROGRESS', ...claim },
        ConditionExpression: 'attribute_not_exists(pk) OR purgeAt <= :nowS OR (#state = :inProgress AND claimedUntil < :nowMs)',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':nowS': seconds(nowMs), ':nowMs': nowMs, ':inProgress': 'IN_PROGRESS' },
      }),
    ),
  );
}

/** The live item holding `key` (strongly consistent read), or undefined. */
export async function readKey(key: string, nowMs: number): Promise<IdempotencyRecord | undefined> {
  const { Item } = await dynamodbClient().send(new GetCommand({ TableName: tableName(), Key: idempotencyKey(key), ConsistentRead: true }));
  if (!Item || !(Item.purgeAt > seconds(nowMs))) return undefined;
  return {
    // an answer stored before claims existed has no state: it is a completed one
    state: Item.state ?? 'COMPLETED',
    fingerprint: Item.fingerprint,
    claimedUntil: Item.claimedUntil ?? 0,
    purgeAt: Item.purgeAt,
    answer: Item.answer,
  };
}

/** Turns the claim of `token` into the completed answer; false when the claim is no longer ours. */
export function completeKey(key: string, token: string, answer: StoredAnswer, purgeAt: number): Promise<boolean> {
  return conditional(() =>
    dynamodbClient().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: idempotencyKey(key),
        UpdateExpression: 'SET #state = :completed, answer = :answer, purgeAt = :purgeAt REMOVE claimedUntil',
        ConditionExpression: '#token = :token AND #state = :inProgress',
        ExpressionAttributeNames: { '#state': 'state', '#token': 'token' },
        ExpressionAttributeValues: { ':completed': 'COMPLETED', ':inProgress': 'IN_PROGRESS', ':answer': answer, ':purgeAt': purgeAt, ':token': token },
      }),
    ),
  );
}

/** Deletes the claim of `token` (a failed request), so a retry can run; false when it is no longer ours. */
export function releaseKey(key: string, token: string): Promise<boolean> {
  return conditional(() =>
    dynamodbClient().send(
      new DeleteCommand({
        TableName: tableName(),
        Key: idempotencyKey(key),
        ConditionExpression: '#token = :token AND #state = :inProgress',
        ExpressionAttributeNames: { '#state': 'state', '#token': 'token' },
        ExpressionAttributeValues: { ':token': token, ':inProgress': 'IN_PROGRESS' },
      }),
    ),
  );
}

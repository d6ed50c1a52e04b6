/**
 * Stored answers for `Idempotency-Key` (README "Using the API"): the same key and body within 24 h replays
 * the first answer; the same key with another body is 422. Items expire through DynamoDB TTL;
 * reads also ignore items past their expiry that DynamoDB has not deleted yet.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { IdempotencyKeyReused } from '#domain/errors.ts';
import { dynamodbClient } from './clients/dynamodb.ts';
import { idempotencyKey, tableName } from './table-keys.ts';

export const IDEMPOTENCY_WINDOW_SECONDS = 24 * 3600;

export interface StoredAnswer {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

interface IdempotencyItem {
  fingerprint: string;
  answer: StoredAnswer;
  purgeAt: number;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

async function read(key: string): Promise<IdempotencyItem | undefined> {
  const { Item } = await dynamodbClient().send(
    new GetCommand({ TableName: tableName(), Key: idempotencyKey(key), ConsistentRead: true }),
  );
  const item = Item as IdempotencyItem | undefined;
  return item && item.purgeAt > nowSeconds() ? item : undefined;
}

function answerFor(item: IdempotencyItem, fingerprint: string): StoredAnswer {
  if (item.fingerprint !== fingerprint) throw new IdempotencyKeyReused();
  return item.answer;
}

export async function findStoredAnswer(key: string, fingerprint: string): Promise<StoredAnswer | undefined> {
  const item = await read(key);
  return item && answerFor(item, fingerprint);
}

/** Stores the answer unless another request stored one first; returns the answer that holds. */
export async function storeAnswer(key: string, fingerprint: string, answer: StoredAnswer): Promise<StoredAnswer> {
  try {
    await dynamodbClient().send(
      new PutCommand({
        TableName: tableName(),
        Item: { ...idempotencyKey(key), kind: 'IDEMPOTENCY', fingerprint, answer, purgeAt: nowSeconds() + IDEMPOTENCY_WINDOW_SECONDS },
        ConditionExpression: 'attribute_not_exists(pk) OR purgeAt < :now',
        ExpressionAttributeValues: { ':now': nowSeconds() },
      }),
    );
    return answer;
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    const winner = await read(key);
    return winner ? answerFor(winner, fingerprint) : answer;
  }
}

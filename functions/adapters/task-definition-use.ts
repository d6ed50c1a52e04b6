/**
 * When a plan step last picked a shared task definition family (`TDUSE#<family>` / `TDUSE`,
 * docs/design.md "Shared task definitions"). PlanResources finds an ACTIVE revision of the family
 * and CreateService runs it seconds later; until then no service shows it, so the cleanup keeps
 * every revision of a family picked within its grace. The item expires (DynamoDB TTL) long after
 * any grace, so families no longer used leave nothing behind.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamodbClient } from './clients/dynamodb.ts';
import { batchGetAll } from './cleanup-store.ts';
import { tableName, taskDefinitionUseKey } from './table-keys.ts';

/** How long a use record outlives its last write (TTL): far past any sensible grace. */
const USE_RETENTION_SECONDS = 90 * 86_400;

/** Records that a plan step picks `family` now. Written before the lookup, so a cleanup that reads after it keeps the family. */
export async function recordFamilyUse(family: string, at = new Date()): Promise<void> {
  try {
    await dynamodbClient().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: taskDefinitionUseKey(family),
        // never moves backwards: a late retry of an older step does not shorten the protection
        UpdateExpression: 'SET lastUsedAt = :at, #family = :family, purgeAt = :purgeAt',
        ConditionExpression: 'attribute_not_exists(lastUsedAt) OR lastUsedAt < :at',
        ExpressionAttributeNames: { '#family': 'family' },
        ExpressionAttributeValues: { ':at': at.toISOString(), ':family': family, ':purgeAt': Math.floor(at.getTime() / 1000) + USE_RETENTION_SECONDS },
      }),
    );
  } catch (error) {
    if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
  }
}

/** family -> lastUsedAt for the families that have a use record (eventually consistent, 100 per request). */
export async function familyUses(families: string[]): Promise<Map<string, string>> {
  const items = await batchGetAll<{ family: string; lastUsedAt: string }>(families.map(taskDefinitionUseKey), {
    ConsistentRead: false,
    ProjectionExpression: '#family, lastUsedAt',
    ExpressionAttributeNames: { '#family': 'family' },
  });
  return new Map(items.map((item) => [item.family, item.lastUsedAt]));
}

/** One family's lastUsedAt, read consistently right before its revisions are deregistered. */
export async function familyUse(family: string): Promise<string | undefined> {
  const result = await dynamodbClient().send(new GetCommand({ TableName: tableName(), Key: taskDefinitionUseKey(family), ConsistentRead: true }));
  return (result.Item as { lastUsedAt?: string } | undefined)?.lastUsedAt;
}

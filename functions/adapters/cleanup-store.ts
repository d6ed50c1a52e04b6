/**
 * The reads the scheduled cleanup plans with. Neither scans the table:
 * - expired environments come from the sparse `byExpiry` index (only live, unpinned,
 *   not-DELETING environments carry `gsiExpiryPk`), with the key condition
 *   `expiresAt < asOf`, so DynamoDB reads only the expired items, oldest first;
 * - environments whose operation may be lost come from `byStatus`, one partition per
 *   transitional status (normally a handful of items).
 * Both report how many items DynamoDB read (`ScannedCount`), the cost of a run.
 */
import { BatchGetCommand, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import type { Operation } from '#domain/environment.ts';
import { IN_FLIGHT_STATUSES, type InFlightStatus } from '#domain/lifecycle.ts';
import { tableDefinition } from '#contract/table-definition.ts';
import { dynamodbClient } from './clients/dynamodb.ts';
import { queryPages } from './table-pages.ts';
import { envKey, tableName } from './table-keys.ts';

export interface ExpiredEnvironment {
  name: string;
  expiresAt: string;
}

export interface QueryCost {
  /** items DynamoDB read (before any filter) */
  itemsRead: number;
  requests: number;
}

/** Counts one page's cost and returns its items. */
function read<T>(cost: QueryCost, page: QueryCommandOutput): T[] {
  cost.requests += 1;
  cost.itemsRead += page.ScannedCount ?? page.Items?.length ?? 0;
  return (page.Items ?? []) as T[];
}

/** Expired environments, oldest first, at most `limit`; `more` when others wait for the next run. */
export async function findExpired(asOf: string, limit: number): Promise<{ items: ExpiredEnvironment[]; more: boolean; cost: QueryCost }> {
  const index = tableDefinition.indexes.byExpiry;
  const items: ExpiredEnvironment[] = [];
  const cost: QueryCost = { itemsRead: 0, requests: 0 };
  const pages = queryPages(
    {
      IndexName: 'byExpiry',
      KeyConditionExpression: '#pk = :expiry AND #expiresAt < :asOf',
      ExpressionAttributeNames: { '#pk': index.partitionKey, '#expiresAt': index.sortKey, '#name': 'name' },
      ExpressionAttributeValues: { ':expiry': 'EXPIRY', ':asOf': asOf },
      ProjectionExpression: '#name, #expiresAt',
    },
    // one more than needed tells whether the run leaves work for the next one
    () => limit + 1 - items.length,
  );
  for await (const page of pages) {
    items.push(...read<ExpiredEnvironment>(cost, page));
    if (items.length > limit) break;
  }
  return { items: items.slice(0, limit), more: items.length > limit, cost };
}

export interface UnsettledEnvironment {
  name: string;
  /** a status with a workflow in flight: the cleanup checks it for a lost execution */
  status: InFlightStatus;
  updatedAt: string;
  operation?: Pick<Operation, 'id' | 'type' | 'status' | 'workflow' | 'executionName' | 'startedAt'>;
}

/**
 * Environments in a transitional status that has not moved since `updatedBefore`, and every
 * DELETING one whose teardown failed (retried on each run).
 */
export async function findUnsettled(updatedBefore: string, limit: number): Promise<{ items: UnsettledEnvironment[]; cost: QueryCost }> {
  const index = tableDefinition.indexes.byStatus;
  const items: UnsettledEnvironment[] = [];
  const cost: QueryCost = { itemsRead: 0, requests: 0 };
  for (const status of IN_FLIGHT_STATUSES) {
    const pages = queryPages({
      IndexName: 'byStatus',
      KeyConditionExpression: '#pk = :status',
      FilterExpression: '#updatedAt < :before OR #op.#opStatus = :failed',
      ExpressionAttributeNames: {
        '#pk': index.partitionKey, '#updatedAt': 'updatedAt', '#op': 'operation', '#opStatus': 'status',
        '#name': 'name', '#status': 'status',
      },
      ExpressionAttributeValues: { ':status': `STATUS#${status}`, ':before': updatedBefore, ':failed': 'FAILED' },
      ProjectionExpression: '#name, #status, #updatedAt, #op',
    });
    for await (const page of pages) {
      items.push(...read<UnsettledEnvironment>(cost, page));
      if (items.length >= limit) break;
    }
    if (items.length >= limit) break;
  }
  return { items: items.slice(0, limit), cost };
}

export interface RecordState {
  name: string;
  status: string;
  updatedAt?: string;
  purgeAt?: number;
}

/**
 * The records of `names` (100 per request); names without a record are absent. Eventually
 * consistent reads cost half; decisions that act read again with `consistent`.
 */
export async function recordStates(names: string[], consistent = false): Promise<Map<string, RecordState>> {
  const items = await batchGetAll<RecordState>(names.map((name) => envKey(name)), {
    ConsistentRead: consistent,
    ProjectionExpression: '#name, #status, updatedAt, purgeAt',
    ExpressionAttributeNames: { '#name': 'name', '#status': 'status' },
  });
  return new Map(items.map((item) => [item.name, item]));
}

/** Every item of `keys` that exists (BatchGetItem, 100 keys per request, unprocessed keys retried with backoff). */
export async function batchGetAll<T>(
  allKeys: Record<string, unknown>[],
  options: { ConsistentRead: boolean; ProjectionExpression: string; ExpressionAttributeNames?: Record<string, string> },
): Promise<T[]> {
  const found: T[] = [];
  for (let i = 0; i < allKeys.length; i += 100) {
    let keys: Record<string, unknown>[] | undefined = allKeys.slice(i, i + 100);
    for (let attempt = 0; keys && keys.length > 0; attempt++) {
      if (attempt > 8) throw new Error('could not read table items: DynamoDB kept returning unprocessed keys');
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 2 ** attempt * 25 * Math.random()));
      const result = await dynamodbClient().send(new BatchGetCommand({ RequestItems: { [tableName()]: { Keys: keys, ...options } } }));
      found.push(...((result.Responses?.[tableName()] ?? []) as T[]));
      keys = result.UnprocessedKeys?.[tableName()]?.Keys as Record<string, unknown>[] | undefined;
    }
  }
  return found;
}

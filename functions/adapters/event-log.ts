/**
 * The history of an environment (`GET /v1/environments/{name}/events`): one item per event
 * under the environment's partition, sort key `EVT#<at>#<seq>` so a backwards Query returns
 * newest first, ties in write order.
 */
import { BatchWriteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { EnvironmentEvent } from '#domain/events.ts';
import { publicText, publicValue } from '#domain/public-text.ts';
import { dynamodbClient } from './clients/dynamodb.ts';
import { queryPages } from './table-pages.ts';
import { envKey, eventSortKey, tableName } from './table-keys.ts';


/** Event items to put in a transaction or a batch; `seq` orders events written in the same ms. */
export function eventItems(name: string, events: EnvironmentEvent[], purgeAt?: number) {
  return events.map((event, seq) => ({
    ...envKey(name),
    sk: eventSortKey(event.at, seq),
    kind: 'EVENT',
    ...event,
    ...(purgeAt ? { purgeAt } : {}),
  }));
}

/** The events as Put items of a transaction: they are written with the change they record, or not at all. */
export function eventPuts(name: string, events: EnvironmentEvent[], purgeAt?: number) {
  return eventItems(name, events, purgeAt).map((Item) => ({ Put: { TableName: tableName(), Item } }));
}

export async function appendEvents(name: string, events: EnvironmentEvent[], purgeAt?: number): Promise<void> {
  await batchPut(eventItems(name, events, purgeAt));
}

async function batchPut(items: Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < items.length; i += 25) {
    let request: Record<string, { PutRequest: { Item: Record<string, unknown> } }[]> | undefined = {
      [tableName()]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })),
    };
    for (let attempt = 0; request && Object.keys(request).length > 0; attempt++) {
      if (attempt > 8) throw new Error('could not write events: DynamoDB kept returning unprocessed items');
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 2 ** attempt * 25 * Math.random()));
      const result = await dynamodbClient().send(new BatchWriteCommand({ RequestItems: request }));
      request = result.UnprocessedItems as typeof request;
    }
  }
}

export interface EventPage {
  items: EnvironmentEvent[];
  lastKey?: Record<string, unknown>;
}

/** The sort key below which events are before `since` (ISO time): `sk >= eventsSinceKey(since)` are the later ones. */
export const eventsSinceKey = (since: string) => `EVT#${since}`;

/** `since` (ISO time): only events at or after it (the current incarnation of a re-created name). */
export async function listEvents(name: string, limit: number, startKey?: Record<string, unknown>, since?: string): Promise<EventPage> {
  const range = since
    ? { condition: 'pk = :pk AND sk BETWEEN :from AND :to', values: { ':from': eventsSinceKey(since), ':to': 'EVT$' } }
    : { condition: 'pk = :pk AND begins_with(sk, :evt)', values: { ':evt': 'EVT#' } };
  const result = await dynamodbClient().send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: range.condition,
      // events past their DynamoDB TTL (the history of a purged record) are gone for readers
      FilterExpression: 'attribute_not_exists(purgeAt) OR purgeAt > :now',
      ExpressionAttributeValues: { ':pk': envKey(name).pk, ...range.values, ':now': Math.floor(Date.now() / 1000) },
      ScanIndexForward: false,
      Limit: limit,
      ExclusiveStartKey: startKey,
    }),
  );
  // what callers read: messages and details in public words (ARNs cut to their resource, no account id),
  // which also cleans events written by earlier versions (docs/security.md "What reaches callers")
  const items = (result.Items ?? []).map(({ at, type, message, operationId, actor, details }) => ({
    at, type, message: publicText(String(message ?? '')), operationId, actor, ...(details ? { details: publicValue(details) } : {}),
  })) as EnvironmentEvent[];
  return { items, lastKey: result.LastEvaluatedKey };
}

/**
 * Gives the history written up to `until` (ISO time) the `purgeAt` of the DELETED record, so
 * DynamoDB TTL purges the record and its history together. Events are immutable, so putting
 * them again with `purgeAt` is safe to repeat; returns how many were stamped.
 */
export async function schedulePurge(name: string, until: string, purgeAt: number): Promise<number> {
  let stamped = 0;
  for await (const page of queryPages({
    KeyConditionExpression: 'pk = :pk AND sk BETWEEN :first AND :last',
    FilterExpression: 'attribute_not_exists(purgeAt)',
    ExpressionAttributeValues: { ':pk': envKey(name).pk, ':first': 'EVT#', ':last': `EVT#${until}#\uffff` },
  })) {
    const items = (page.Items ?? []).map((item) => ({ ...item, purgeAt }));
    await batchPut(items);
    stamped += items.length;
  }
  return stamped;
}

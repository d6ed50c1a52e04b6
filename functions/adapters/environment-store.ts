/**
 * Environments in DynamoDB. Every state change is a conditional write (optimistic
 * concurrency on `version`); lists Query an index, never Scan; cursors are opaque and
 * checked, so a tampered cursor is a 400 rather than a read of somebody else's partition.
 */
import { GetCommand, QueryCommand, TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import type { EnvironmentRecord } from '#domain/environment.ts';
import type { EnvironmentEvent } from '#domain/events.ts';
import { NAME_PATTERN } from '#domain/environment-spec.ts';
import { isThrottlingError, QuotaExceeded, VersionConflict } from '#domain/errors.ts';
import { decodeCursor, encodeCursor } from '#domain/cursors.ts';
import type { LiveCounts, QuotaLimits } from '#domain/quota-usage.ts';
import type { Status } from '#domain/lifecycle.ts';
import { isPinned } from '#domain/pinning.ts';
import { isDeepStrictEqual } from 'node:util';
import { tableDefinition, type IndexName } from '#contract/table-definition.ts';
import { dynamodbClient } from './clients/dynamodb.ts';
import { eventPuts } from './event-log.ts';
import { envKey, liveCounterKey, tableName } from './table-keys.ts';

/** Index attributes derived from the record: written with every version of the item. */
export function indexAttributes(record: Pick<EnvironmentRecord, 'status' | 'spec'>) {
  const repository = record.spec.labels.repository;
  // pinned environments stay out of the expiry index: the cleanup never sees them
  const expiring = record.status !== 'DELETED' && record.status !== 'DELETING' && !isPinned(record.spec);
  return {
    gsiAllPk: 'ENV',
    gsiStatusPk: `STATUS#${record.status}`,
    ...(repository ? { gsiRepoPk: `REPO#${repository}` } : {}),
    ...(expiring ? { gsiExpiryPk: 'EXPIRY' } : {}),
  };
}

function itemOf(record: EnvironmentRecord, extra: Record<string, unknown> = {}) {
  return { ...envKey(record.name), kind: 'ENVIRONMENT', ...record, ...indexAttributes(record), ...extra };
}

/** Keys and index attributes are derived on every write; everything else (workflow bookkeeping included) is kept. */
const DERIVED_ATTRIBUTES = new Set(['pk', 'sk', 'kind', 'gsiAllPk', 'gsiStatusPk', 'gsiRepoPk', 'gsiExpiryPk']);

function recordOf(item: Record<string, unknown>): EnvironmentRecord {
  return Object.fromEntries(Object.entries(item).filter(([key]) => !DERIVED_ATTRIBUTES.has(key))) as unknown as EnvironmentRecord;
}

export async function getEnvironment(name: string): Promise<EnvironmentRecord | undefined> {
  const { Item } = await dynamodbClient().send(
    new GetCommand({ TableName: tableName(), Key: envKey(name), ConsistentRead: true }),
  );
  return Item && !purged(Item) ? recordOf(Item) : undefined;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * DynamoDB TTL deletes an item some time (up to days) after its `purgeAt`; until then reads
 * treat it as gone, so a purged record is never shown and its name can be created anew.
 */
export function purged(item: Record<string, unknown>, now = nowSeconds()): boolean {
  return typeof item.purgeAt === 'number' && item.purgeAt <= now;
}

/** The reason codes of a cancelled transaction, in item order; undefined for any other error. */
export function cancellationCodes(error: unknown): (string | undefined)[] | undefined {
  if ((error as Error).name !== 'TransactionCanceledException') return undefined;
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
  return reasons?.map((reason) => reason.Code);
}

const TRANSACTION_ATTEMPTS = 6;

/**
 * Runs a transaction, retrying when DynamoDB cancels it only because another transaction
 * held one of its items (`TransactionConflict`: every create touches the quota counter, so
 * concurrent creates conflict on real DynamoDB). Full-jitter backoff; a condition failure is
 * never retried — it is the caller's answer. A cancellation because an item was throttled
 * (reason `ThrottlingError` or `ProvisionedThroughputExceeded`, DynamoDB API Reference,
 * TransactWriteItems) and no condition failed is thrown as `ThrottlingException`, the name the
 * steps' throttling Retry (statemachines/source/retry-policies.ts) and the API's 503 know: under
 * its own name, TransactionCanceledException, no Retry would catch it and the create would fail.
 */
export async function transactWrite(input: TransactWriteCommandInput): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await dynamodbClient().send(new TransactWriteCommand(input));
      return;
    } catch (error) {
      const cancelled = cancellationCodes(error);
      const codes = cancelled ?? [];
      if (cancelled && !codes.includes('ConditionalCheckFailed') && isThrottlingError(error)) {
        throw Object.assign(new Error('DynamoDB throttled the transaction; retry', { cause: error }), { name: 'ThrottlingException' });
      }
      const onlyConflicts = codes.includes('TransactionConflict') && !codes.includes('ConditionalCheckFailed');
      if (!onlyConflicts || attempt >= TRANSACTION_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 25 * 2 ** attempt));
    }
  }
}

export type { QuotaLimits } from '#domain/quota-usage.ts';

/** The live counters as they are now (absent attributes: never counted). */
export async function liveCounts(): Promise<Record<string, number>> {
  const { Item } = await dynamodbClient().send(
    new GetCommand({ TableName: tableName(), Key: liveCounterKey, ConsistentRead: true }),
  );
  return (Item ?? {}) as Record<string, number>;
}

/** The attribute of the live counter item that counts every live environment. */
const TOTAL_COUNTER = 'total';
const REPOSITORY_COUNTER_PREFIX = 'repo#';
const repositoryCounter = (repository: string) => `${REPOSITORY_COUNTER_PREFIX}${repository}`;

/** The live counters read as numbers: every live environment, and each repository's. */
export async function liveCountsByRepository(): Promise<LiveCounts> {
  const counts = await liveCounts();
  const repositories: Record<string, number> = {};
  for (const [attribute, value] of Object.entries(counts)) {
    if (attribute.startsWith(REPOSITORY_COUNTER_PREFIX) && typeof value === 'number') repositories[attribute.slice(REPOSITORY_COUNTER_PREFIX.length)] = value;
  }
  return { total: typeof counts[TOTAL_COUNTER] === 'number' ? counts[TOTAL_COUNTER] : 0, repositories };
}

/** The counters an environment of `repository` is counted in: always `total`, and its repository's. */
export function liveCountersFor(repository: string | undefined): string[] {
  return [TOTAL_COUNTER, ...(repository ? [repositoryCounter(repository)] : [])];
}

/**
 * The counters this record was counted in at create, which its teardown releases: the
 * `quotaCounters` written by `insertEnvironment`, or, for a record written before that
 * attribute existed, those of its `labels.repository` (fixed at create since then, so
 * it names the repository it was counted under unless an old PUT relabelled it).
 */
export function countedIn(record: Pick<EnvironmentRecord, 'spec' | 'quotaCounters'>): string[] {
  return record.quotaCounters ?? liveCountersFor(record.spec?.labels?.repository);
}

/**
 * Creates the environment (or re-creates a DELETED one, replacing exactly the version read)
 * together with its first events, counting it against the quotas in the same transaction.
 * Returns the record as stored: with `quotaCounters`, the counters it was counted in, so
 * its teardown releases exactly those (never the ones of a later label).
 */
export async function insertEnvironment(
  record: EnvironmentRecord,
  events: EnvironmentEvent[],
  quota: QuotaLimits,
  replacesDeletedVersion?: number,
): Promise<EnvironmentRecord> {
  const repository = record.spec.labels.repository;
  const stored: EnvironmentRecord = { ...record, quotaCounters: liveCountersFor(repository) };
  const counterNames: Record<string, string> = { '#total': TOTAL_COUNTER };
  const counterValues: Record<string, number> = { ':one': 1, ':zero': 0, ':maxGlobal': quota.global };
  let update = 'SET #total = if_not_exists(#total, :zero) + :one';
  let condition = 'attribute_not_exists(#total) OR #total < :maxGlobal';
  if (repository) {
    counterNames['#repo'] = repositoryCounter(repository);
    counterValues[':maxRepo'] = quota.perRepository;
    update += ', #repo = if_not_exists(#repo, :zero) + :one';
    condition = `(${condition}) AND (attribute_not_exists(#repo) OR #repo < :maxRepo)`;
  }
  const envCondition: { ConditionExpression: string; ExpressionAttributeNames: Record<string, string>; ExpressionAttributeValues: Record<string, unknown> } =
    replacesDeletedVersion === undefined
      ? {
          // a record past its purgeAt is gone for every reader, DynamoDB just has not deleted it yet
          ConditionExpression: 'attribute_not_exists(pk) OR #purgeAt <= :now',
          ExpressionAttributeNames: { '#purgeAt': 'purgeAt' },
          ExpressionAttributeValues: { ':now': nowSeconds() },
        }
      : {
          ConditionExpression: '#status = :deleted AND #version = :expected',
          ExpressionAttributeNames: { '#status': 'status', '#version': 'version' },
          ExpressionAttributeValues: { ':deleted': 'DELETED', ':expected': replacesDeletedVersion },
        };
  try {
    await transactWrite({
      TransactItems: [
        { Put: { TableName: tableName(), Item: itemOf(stored), ...envCondition } },
        {
          Update: {
            TableName: tableName(),
            Key: liveCounterKey,
            UpdateExpression: update,
            ConditionExpression: condition,
            ExpressionAttributeNames: counterNames,
            ExpressionAttributeValues: counterValues,
          },
        },
        ...eventPuts(record.name, events),
      ],
    });
    return stored;
  } catch (error) {
    const codes = cancellationCodes(error);
    if (!codes) throw error;
    if (codes[0] === 'ConditionalCheckFailed') {
      throw new VersionConflict(`environment "${record.name}" was created or changed by another request; read it and retry`);
    }
    if (codes[1] === 'ConditionalCheckFailed') {
      const counts = await liveCounts();
      const total = counts.total ?? 0;
      if (total >= quota.global) throw new QuotaExceeded('global', quota.global, total);
      const repoCount = repository ? (counts[repositoryCounter(repository)] ?? 0) : 0;
      throw new QuotaExceeded('repository', quota.perRepository, repoCount, repository);
    }
    throw error;
  }
}

/** Replaces the environment if it is still at `expectedVersion`; 409 when another write won. */
export async function replaceEnvironment(record: EnvironmentRecord, expectedVersion: number, events: EnvironmentEvent[]): Promise<void> {
  const put = {
    TableName: tableName(),
    Item: itemOf(record),
    ConditionExpression: '#version = :expected',
    ExpressionAttributeNames: { '#version': 'version' },
    ExpressionAttributeValues: { ':expected': expectedVersion },
  };
  try {
    await transactWrite({ TransactItems: [{ Put: put }, ...eventPuts(record.name, events)] });
  } catch (error) {
    if (cancellationCodes(error)?.[0] === 'ConditionalCheckFailed') {
      throw new VersionConflict(`environment "${record.name}" changed while this request ran (version ${expectedVersion} is stale); read it and retry`);
    }
    throw error;
  }
}

// ---- listing ---------------------------------------------------------------------------

export interface ListQuery {
  repository?: string;
  branch?: string;
  status?: Status;
  limit: number;
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}


function indexPlan(query: ListQuery): { index: IndexName; partition: string; filters: Record<string, string> } {
  const filters: Record<string, string> = {};
  if (query.repository !== undefined) {
    if (query.branch !== undefined) filters['branch'] = query.branch;
    if (query.status !== undefined) filters['status'] = query.status;
    return { index: 'byRepository', partition: `REPO#${query.repository}`, filters };
  }
  if (query.status !== undefined) {
    if (query.branch !== undefined) filters['branch'] = query.branch;
    return { index: 'byStatus', partition: `STATUS#${query.status}`, filters };
  }
  if (query.branch !== undefined) filters['branch'] = query.branch;
  return { index: 'all', partition: 'ENV', filters };
}

export interface EnvironmentPage extends Page<EnvironmentRecord> {
  /** the cursor that continues this query after the named environment (a page cut short to fit a response) */
  cursorAfter(name: string): string;
}

export async function listEnvironments(query: ListQuery): Promise<EnvironmentPage> {
  const plan = indexPlan(query);
  const index = tableDefinition.indexes[plan.index];
  const queryId = JSON.stringify([plan.index, plan.partition, plan.filters]);
  const keyNames = [tableDefinition.partitionKey, tableDefinition.sortKey, index.partitionKey, index.sortKey];
  // the exact key DynamoDB returns as LastEvaluatedKey for the environment `name` in this query
  const keyAfter = (name: string): Record<string, string> => ({
    ...envKey(name),
    [index.partitionKey]: plan.partition,
    [index.sortKey]: name,
  });
  let startKey: Record<string, unknown> | undefined = query.cursor
    ? decodeCursor(query.cursor, queryId, keyNames, (key) => {
        const name = key[index.sortKey]!;
        return NAME_PATTERN.test(name) && isDeepStrictEqual(key, keyAfter(name));
      })
    : undefined;

  const names: Record<string, string> = { '#pk': index.partitionKey };
  const values: Record<string, unknown> = { ':pk': plan.partition };
  const filterParts: string[] = [];
  if (plan.filters.branch !== undefined) {
    names['#labels'] = 'spec';
    names['#lbl'] = 'labels';
    names['#branch'] = 'branch';
    values[':branch'] = plan.filters.branch;
    filterParts.push('#labels.#lbl.#branch = :branch');
  }
  if (plan.filters.status !== undefined) {
    names['#status'] = 'status';
    values[':status'] = plan.filters.status;
    filterParts.push('#status = :status');
  }
  // records past their DynamoDB TTL are gone for readers, even before DynamoDB deletes them
  names['#purgeAt'] = 'purgeAt';
  values[':now'] = nowSeconds();
  filterParts.push('(attribute_not_exists(#purgeAt) OR #purgeAt > :now)');
  if (query.status === undefined) {
    // Deleted records stay readable one by one, but lists show live environments unless asked.
    names['#status'] = 'status';
    values[':deleted'] = 'DELETED';
    filterParts.push('#status <> :deleted');
  }

  const items: EnvironmentRecord[] = [];
  // A filter can leave a page short: keep reading until the page is full or the index ends.
  do {
    const result = await dynamodbClient().send(
      new QueryCommand({
        TableName: tableName(),
        IndexName: plan.index,
        KeyConditionExpression: '#pk = :pk',
        FilterExpression: filterParts.length ? filterParts.join(' AND ') : undefined,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        Limit: query.limit - items.length,
        ExclusiveStartKey: startKey,
      }),
    );
    items.push(...(result.Items ?? []).map(recordOf));
    startKey = result.LastEvaluatedKey;
  } while (startKey && items.length < query.limit);

  return {
    items,
    nextCursor: startKey ? encodeCursor(queryId, startKey) : null,
    cursorAfter: (name) => encodeCursor(queryId, keyAfter(name)),
  };
}

/** Every environment a list query finds, all pages read (the schedules and local mode; the API pages). */
export async function everyEnvironment(query: Omit<ListQuery, 'limit' | 'cursor'>): Promise<EnvironmentRecord[]> {
  const out: EnvironmentRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await listEnvironments({ ...query, limit: 100, cursor });
    out.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return out;
}

export const eventCursorKeyNames = [tableDefinition.partitionKey, tableDefinition.sortKey] as const;

/** `EVT#<ISO time>#<seq>` (table-keys.ts eventSortKey): a time of safe characters and a sequence number */
const EVENT_SORT_KEY = /^EVT#[0-9A-Za-z:.+-]{1,40}#\d{4,6}$/;

export const eventsQueryId = (name: string) => `events:${name}`;

/** The ExclusiveStartKey of an events cursor for environment `name`: its partition and an event sort key, nothing else. */
export function decodeEventCursor(cursor: string, name: string): Record<string, unknown> {
  return decodeCursor(cursor, eventsQueryId(name), eventCursorKeyNames, (key) => key.pk === envKey(name).pk && EVENT_SORT_KEY.test(key.sk!));
}

/**
 * The transaction item that stops counting an environment against the quotas: each of
 * `counters` (what it was counted in: `countedIn`) goes down by one. Put it in the same
 * transaction as the conditional write that makes the record DELETED (conditioned on the
 * teardown operation still RUNNING), so the count cannot drift and a teardown run twice
 * releases once.
 *
 * `counts` is a read of the counters: one that is missing or already 0 (a record written
 * before counting existed, or counted under a repository an old PUT relabelled) is left
 * alone, so no counter goes negative and the others are still released; the condition
 * pins that read (`> 0` for each decrement, `<= 0` or missing for each skip), so a
 * concurrent change across zero cancels the transaction rather than drift (the caller
 * reads again and retries). A missing counter must be skipped in any case: an update
 * expression that reads an attribute the item lacks is a ValidationException. All of it
 * is one item (one Update, or one ConditionCheck when nothing is above 0): a transaction
 * cannot hold two actions on the same item (DynamoDB API Reference, TransactWriteItems),
 * and `attribute_not_exists` is from the Developer Guide's "Condition and filter
 * expressions, operators, and functions".
 */
export function liveCountRelease(counters: readonly string[], counts: Record<string, number>) {
  const names: Record<string, string> = {};
  const sets: string[] = [];
  const removes: string[] = [];
  const conditions: string[] = [];
  [...new Set(counters)].forEach((counter, i) => {
    const name = `#c${i}`;
    names[name] = counter;
    const count = counts[counter] ?? 0;
    if (count === 1 && counter !== TOTAL_COUNTER) {
      // a repository's last live environment: drop its attribute rather than keep a 0, so the
      // counter item holds only repositories with live environments and cannot grow towards
      // DynamoDB's 400 KB item limit with every repository ever seen ("Service, account, and
      // table quotas in Amazon DynamoDB", Item size); a create since the read fails the condition
      removes.push(name);
      conditions.push(`${name} = :one`);
    } else if (count > 0) {
      sets.push(`${name} = ${name} - :one`);
      conditions.push(`${name} > :zero`);
    } else {
      conditions.push(`(attribute_not_exists(${name}) OR ${name} <= :zero)`);
    }
  });
  const common = {
    TableName: tableName(),
    Key: liveCounterKey,
    ConditionExpression: conditions.join(' AND '),
    ExpressionAttributeNames: names,
  };
  if (sets.length === 0 && removes.length === 0) return { ConditionCheck: { ...common, ExpressionAttributeValues: { ':zero': 0 } } };
  const update = [sets.length ? `SET ${sets.join(', ')}` : '', removes.length ? `REMOVE ${removes.join(', ')}` : ''].filter(Boolean).join(' ');
  const values: Record<string, number> = { ':one': 1 };
  if (conditions.some((c) => c.includes(':zero'))) values[':zero'] = 0;
  return { Update: { ...common, UpdateExpression: update, ExpressionAttributeValues: values } };
}

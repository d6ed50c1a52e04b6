/**
 * The workflows' writes to the environment item: listener priorities, the task token of the
 * step waiting for steady state, and the end of an operation (RUNNING, FAILED, DELETED).
 *
 * Every write is an UpdateItem of the attributes it owns (never a whole-item Put, so it
 * cannot erase what the API wrote meanwhile), conditioned on the operation still being the
 * one this execution runs: a DELETE that superseded the operation, or a retried step whose
 * first attempt already finished, makes the condition fail and the write a no-op.
 * Status changes bump `version` and keep the index attributes (`gsiStatusPk`, `gsiExpiryPk`)
 * in step; the task-token bookkeeping does not, as no reader of the API can see it. A write that
 * records a running count reads the item first and changes its `taskTime` with it (the cost
 * estimate's accrual: `finishWrite`), one GetItem more per operation end.
 */
import {
  GetCommand,
  PutCommand,
  DeleteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { runsOperation, type EnvironmentRecord, type OperationError, type OperationStatus } from '#domain/environment.ts';
import { countChanged, taskTimeOf, type TaskTime } from '#domain/cost.ts';
import type { EnvironmentSpec } from '#domain/environment-spec.ts';
import type { Status } from '#domain/lifecycle.ts';
import { dynamodbClient } from './clients/dynamodb.ts';
import type { EnvironmentEvent } from '#domain/events.ts';
import { eventPuts } from './event-log.ts';
import { cancellationCodes, liveCountRelease, liveCounts, transactWrite } from './environment-store.ts';
import { shardSlotRelease } from './shard-slots.ts';
import { envKey, priorityKey, tableName } from './table-keys.ts';

/** The environment item as the workflows read it: the record plus workflow bookkeeping. */
export interface EnvironmentItem extends EnvironmentRecord {
  waitToken?: string;
  waitPhase?: 'create' | 'update' | 'scale';
  waitTaskDefinitionArn?: string;
  /** which wait the token belongs to (operation|phase|task definition), and when it began */
  waitDesiredCount?: number;
  /** the deployment the wait is for (a heal's forced deployment), when known */
  waitDeploymentId?: string;
  waitKey?: string;
  waitStartedAt?: string;
  purgeAt?: number;
}

/** Everything the wait for steady state keeps on the item; an ended operation removes it all. */
export const WAIT_BOOKKEEPING = ['waitToken', 'waitPhase', 'waitTaskDefinitionArn', 'waitDesiredCount', 'waitDeploymentId', 'waitKey', 'waitStartedAt'];

export const MAX_HEALTHY_IMAGES = 5;
/** ALB listener rule priorities are 1..50000. */
export const MAX_LISTENER_PRIORITY = 50_000;

export async function getEnvironmentItem(name: string): Promise<EnvironmentItem | undefined> {
  const { Item } = await dynamodbClient().send(
    new GetCommand({ TableName: tableName(), Key: envKey(name), ConsistentRead: true }),
  );
  return Item as EnvironmentItem | undefined;
}

function isConditionFailure(error: unknown): boolean {
  const name = (error as Error).name;
  if (name === 'ConditionalCheckFailedException') return true;
  return cancellationCodes(error)?.includes('ConditionalCheckFailed') ?? false;
}

/** Sends a conditional write: false when its condition failed (an answer, not an error); other errors are thrown. */
async function writeIf(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

// ---- listener priorities -----------------------------------------------------------------

/** Where an environment starts probing: spread by name so concurrent creates rarely collide. */
export function firstCandidatePriority(name: string): number {
  let hash = 0;
  for (const char of name) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return (hash % MAX_LISTENER_PRIORITY) + 1;
}

/**
 * The listener priority of `name`: the one it already holds (a retried step, a retried
 * create), or the first free one from its hash, taken by a conditional put of
 * `PRIORITY#<n>` so two environments can never hold the same priority.
 */
export async function allocateListenerPriority(name: string, operationId: string, maxProbes = 200): Promise<number> {
  const item = await getEnvironmentItem(name);
  if (!item) throw new Error(`environment "${name}" does not exist`);
  if (item.listenerPriority !== undefined) {
    const held = await dynamodbClient().send(
      new GetCommand({ TableName: tableName(), Key: priorityKey(item.listenerPriority), ConsistentRead: true }),
    );
    if (!held.Item || held.Item.name === name) {
      await claimPriority(name, item.listenerPriority);
      return item.listenerPriority;
    }
  }
  const start = firstCandidatePriority(name);
  for (let probe = 0; probe < maxProbes; probe++) {
    const candidate = ((start - 1 + probe) % MAX_LISTENER_PRIORITY) + 1;
    if (await claimPriority(name, candidate)) {
      try {
        await dynamodbClient().send(
          new UpdateCommand({
            TableName: tableName(),
            Key: envKey(name),
            UpdateExpression: 'SET listenerPriority = :p',
            ConditionExpression: '#op.#id = :op',
            ExpressionAttributeNames: { '#op': 'operation', '#id': 'id' },
            ExpressionAttributeValues: { ':p': candidate, ':op': operationId },
          }),
        );
      } catch (error) {
        await releasePriorityItem(name, candidate);
        if (isConditionFailure(error)) throw new Error(`operation ${operationId} of "${name}" is no longer current`, { cause: error });
        throw error;
      }
      return candidate;
    }
  }
  throw Object.assign(new Error(`no free listener priority found after ${maxProbes} probes`), { name: 'TooManyRulesException' });
}

/** Takes `PRIORITY#<n>` for `name`; true when it is (now) held by `name`. */
async function claimPriority(name: string, priority: number): Promise<boolean> {
  return writeIf(() =>
    dynamodbClient().send(new PutCommand({
      TableName: tableName(),
      Item: { ...priorityKey(priority), kind: 'PRIORITY', name, priority },
      ConditionExpression: 'attribute_not_exists(pk) OR #name = :name',
      ExpressionAttributeNames: { '#name': 'name' },
      ExpressionAttributeValues: { ':name': name },
    })),
  );
}

/** Frees `PRIORITY#<n>` if `name` still holds it. */
async function releasePriorityItem(name: string, priority: number): Promise<void> {
  await writeIf(() =>
    dynamodbClient().send(new DeleteCommand({
      TableName: tableName(),
      Key: priorityKey(priority),
      ConditionExpression: '#name = :name',
      ExpressionAttributeNames: { '#name': 'name' },
      ExpressionAttributeValues: { ':name': name },
    })),
  );
}

/** A transaction item that frees `PRIORITY#<n>` if `name` holds it (and is fine if nobody does). */
function releasePriorityTransactItem(name: string, priority: number) {
  return {
    Delete: {
      TableName: tableName(),
      Key: priorityKey(priority),
      ConditionExpression: 'attribute_not_exists(pk) OR #name = :name',
      ExpressionAttributeNames: { '#name': 'name' },
      ExpressionAttributeValues: { ':name': name },
    },
  };
}

// ---- task tokens -------------------------------------------------------------------------

/**
 * Stores the task token of the step that waits for steady state, if `operationId` is still
 * the environment's running operation (false otherwise: the step answers "superseded").
 * `waitStartedAt` is when this wait began: kept while the same wait (operation, phase, task
 * definition) polls again after its TimeoutSeconds, reset when another wait begins.
 */
export async function storeWaitToken(
  name: string,
  operationId: string,
  token: string,
  phase: 'create' | 'update' | 'scale',
  taskDefinitionArn: string | undefined,
  desiredCount?: number,
  options: { deploymentId?: string; pass?: number; current?: EnvironmentItem } = {},
  now: Date = new Date(),
): Promise<{ stored: boolean; startedAt: string }> {
  const key = [operationId, phase, taskDefinitionArn ?? '', desiredCount ?? '', options.pass ?? ''].join('|');
  const absent = [
    taskDefinitionArn ? '' : 'waitTaskDefinitionArn',
    desiredCount !== undefined ? '' : 'waitDesiredCount',
    options.deploymentId ? '' : 'waitDeploymentId',
  ].filter(Boolean);
  const current = options.current ?? (await getEnvironmentItem(name));
  const startedAt = current?.waitKey === key && current.waitStartedAt ? current.waitStartedAt : now.toISOString();
  const stored = await writeIf(() =>
    dynamodbClient().send(new UpdateCommand({
      TableName: tableName(),
      Key: envKey(name),
      UpdateExpression: [
        'SET waitToken = :token, waitPhase = :phase, waitKey = :key, waitStartedAt = :startedAt',
        taskDefinitionArn ? ', waitTaskDefinitionArn = :td' : '',
        desiredCount !== undefined ? ', waitDesiredCount = :count' : '',
        options.deploymentId ? ', waitDeploymentId = :deploymentId' : '',
        absent.length > 0 ? ` REMOVE ${absent.join(', ')}` : '',
      ].join(''),
      ConditionExpression: '#op.#id = :op AND #op.#status = :running',
      ExpressionAttributeNames: { '#op': 'operation', '#id': 'id', '#status': 'status' },
      ExpressionAttributeValues: {
        ':token': token,
        ':phase': phase,
        ':key': key,
        ':startedAt': startedAt,
        ':op': operationId,
        ':running': 'RUNNING',
        ...(taskDefinitionArn ? { ':td': taskDefinitionArn } : {}),
        ...(desiredCount !== undefined ? { ':count': desiredCount } : {}),
        ...(options.deploymentId ? { ':deploymentId': options.deploymentId } : {}),
      },
    })),
  );
  return { stored, startedAt };
}

/** Forgets the token if it is still the one given (a newer wait's token is left alone). */
export async function clearWaitToken(name: string, token: string): Promise<void> {
  await writeIf(() =>
    dynamodbClient().send(new UpdateCommand({
      TableName: tableName(),
      Key: envKey(name),
      UpdateExpression: 'REMOVE waitToken',
      ConditionExpression: 'waitToken = :token',
      ExpressionAttributeValues: { ':token': token },
    })),
  );
}

// ---- the end of an operation ---------------------------------------------------------------

export interface EnvironmentUpdate {
  set: Record<string, unknown>;
  remove?: string[];
  /** extra condition on top of "the operation is still ours and running" */
  condition?: { expression: string; values: Record<string, unknown>; names?: Record<string, string> };
  /** the running count this write records, as of `at`: its task-time changes in the same write (`countedWrite`) */
  count?: { runningCount: number; at: string };
}

/**
 * One conditional transaction: the environment item's update (with version bump and
 * operation fields), its events, and whatever else must change with it.
 */
export async function finishWrite(
  name: string,
  operationId: string,
  update: EnvironmentUpdate,
  events: EnvironmentEvent[],
  extra: Record<string, unknown>[] = [],
  eventPurgeAt?: number,
): Promise<boolean> {
  if (!update.count) return writeOnce(name, operationId, update, events, extra, eventPurgeAt);
  for (let attempt = 1; ; attempt++) {
    const item = await getEnvironmentItem(name);
    if (!runsOperation(item, operationId)) return false;
    const counted = countedWrite(update, update.count, item);
    if (await writeOnce(name, operationId, counted.update, events, extra, eventPurgeAt)) return true;
    // cancelled: the operation is no longer ours, or a condition of the caller's failed (both are
    // the caller's answer), or the task-time changed since the read (read again and fold anew)
    if (!counted.taskTime) return false;
    const now = await getEnvironmentItem(name);
    if (!runsOperation(now, operationId) || sameTaskTime(now.taskTime, item.taskTime)) return false;
    if (attempt >= COUNT_ATTEMPTS) {
      // named as DynamoDB names a lost race, so the step's Retry takes it
      throw Object.assign(new Error(`the task-time of "${name}" kept changing while its running count was being recorded; retry`), { name: 'TransactionConflictException' });
    }
  }
}

/** Reads of the item before giving up, when its task-time changed between a read and the write. */
const COUNT_ATTEMPTS = 5;

const sameTaskTime = (a: TaskTime | undefined, b: TaskTime | undefined) => a?.since === b?.since && a?.count === b?.count;

/**
 * The write with its running count, and, when the count changes, the task-time with the seconds
 * so far folded in (functions/domain/cost.ts), conditioned on the task-time read: a write that
 * raced with another change of it is cancelled rather than count the same seconds twice or lose
 * them. A count that does not change leaves the task-time alone, so a replayed step that finds
 * its count recorded already folds nothing (an exact accrual under retries).
 */
function countedWrite(update: EnvironmentUpdate, count: { runningCount: number; at: string }, item: EnvironmentItem): { update: EnvironmentUpdate; taskTime?: TaskTime } {
  const set = { ...update.set, runningCount: count.runningCount };
  const taskTime = countChanged(taskTimeOf(item, count.at), count.runningCount, count.at);
  if (!taskTime) return { update: { ...update, set } };
  const read = item.taskTime;
  const names: Record<string, string> = { ...update.condition?.names, '#taskTime': 'taskTime' };
  const values: Record<string, unknown> = { ...update.condition?.values };
  let expression = 'attribute_not_exists(#taskTime)';
  if (read) {
    // every change moves `since` on, with `count`: the two pin the read
    Object.assign(names, { '#ttSince': 'since', '#ttCount': 'count' });
    Object.assign(values, { ':ttSince': read.since, ':ttCount': read.count });
    expression = '#taskTime.#ttSince = :ttSince AND #taskTime.#ttCount = :ttCount';
  }
  if (update.condition) expression = `${update.condition.expression} AND ${expression}`;
  return { update: { ...update, set: { ...set, taskTime }, condition: { expression, values, names } }, taskTime };
}

/** One conditional transaction of `finishWrite`. */
async function writeOnce(
  name: string,
  operationId: string,
  update: EnvironmentUpdate,
  events: EnvironmentEvent[],
  extra: Record<string, unknown>[],
  eventPurgeAt: number | undefined,
): Promise<boolean> {
  const names: Record<string, string> = { '#op': 'operation', '#opid': 'id', '#opstatus': 'status', '#version': 'version' };
  const values: Record<string, unknown> = { ':op': operationId, ':running': 'RUNNING', ':one': 1 };
  const sets = ['#version = #version + :one'];
  let i = 0;
  for (const [path, value] of Object.entries(update.set)) {
    const parts = path.split('.').map((part) => {
      const placeholder = `#a${i++}`;
      names[placeholder] = part;
      return placeholder;
    });
    const valueName = `:v${i++}`;
    values[valueName] = value;
    sets.push(`${parts.join('.')} = ${valueName}`);
  }
  const removes = (update.remove ?? []).map((attr) => {
    const placeholder = `#r${i++}`;
    names[placeholder] = attr;
    return placeholder;
  });
  let condition = '#op.#opid = :op AND #op.#opstatus = :running';
  if (update.condition) {
    condition += ` AND ${update.condition.expression}`;
    Object.assign(values, update.condition.values);
    Object.assign(names, update.condition.names);
    if (update.condition.expression.includes('#specVersion')) names['#specVersion'] = 'specVersion';
  }
  const item = {
    TableName: tableName(),
    Key: envKey(name),
    UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
    ConditionExpression: condition,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
  return writeIf(() => transactWrite({ TransactItems: [{ Update: item }, ...extra, ...eventPuts(name, events, eventPurgeAt)] }));
}

export function statusAttributes(status: Status) {
  return { status, gsiStatusPk: `STATUS#${status}` };
}

/**
 * What ends an operation: the environment's new status and the operation's, when it ended and,
 * for a failure, why; bumped with the version like every status change (finishWrite).
 */
export function operationEnd(status: Status, operationStatus: OperationStatus, now: string, error?: OperationError) {
  return {
    ...statusAttributes(status),
    updatedAt: now,
    'operation.status': operationStatus,
    'operation.finishedAt': now,
    ...(error ? { 'operation.error': error } : {}),
  };
}

/** Newest first, without repeats, at most MAX_HEALTHY_IMAGES. */
export function pushHealthyImage(history: string[] | undefined, image: string): string[] {
  return [image, ...(history ?? []).filter((i) => i !== image)].slice(0, MAX_HEALTHY_IMAGES);
}

/** The image that ran healthy becomes the last healthy one and heads the history (nothing when none did). */
function healthyImageAttributes(image: string | undefined, history: string[] | undefined) {
  return image ? { lastHealthyImage: image, healthyImages: pushHealthyImage(history, image) } : {};
}

export interface Completion {
  name: string;
  operationId: string;
  specVersion: number;
  status: 'RUNNING' | 'SLEEPING';
  url: string;
  runningCount: number;
  /** the image that ran healthy (undefined when nothing ran: desiredCount 0, or a rollback) */
  healthyImage?: string;
  previousHealthyImages?: string[];
  /** set when the deployment was rolled back: the operation fails, the environment runs on */
  error?: OperationError;
  /**
   * set after a rollback: the image the service runs again. The desired spec says it (a new
   * spec version, applied), so GET shows what the environment converges to and no heal
   * reconciles toward the failed image; the failed one is named in `error` and the event.
   */
  restoredImage?: string;
  /**
   * set after a rollback of a pass that changed the target group's health check: the one
   * RestoreHealthCheck put back, which the desired spec says again (like `restoredImage`)
   */
  restoredHealthCheck?: EnvironmentSpec['healthCheck'];
  now: string;
  events: EnvironmentEvent[];
}

/**
 * The attributes that make the desired spec say `image` (and `healthCheck`) again after a
 * rollback (a new spec version, applied at once).
 */
export function restoredSpec(specVersion: number, image: string | undefined, healthCheck?: EnvironmentSpec['healthCheck']): Record<string, unknown> {
  if (!image && !healthCheck) return { appliedSpecVersion: specVersion };
  return {
    ...(image ? { 'spec.image': image } : {}),
    ...(healthCheck ? { 'spec.healthCheck': healthCheck } : {}),
    specVersion: specVersion + 1,
    appliedSpecVersion: specVersion + 1,
  };
}

/** RUNNING (or SLEEPING), if the operation is still ours and the desired spec did not move. */
export async function completeOperation(c: Completion): Promise<boolean> {
  return finishWrite(
    c.name,
    c.operationId,
    {
      set: {
        ...operationEnd(c.status, c.error ? 'FAILED' : 'SUCCEEDED', c.now, c.error),
        ...restoredSpec(c.specVersion, c.restoredImage, c.restoredHealthCheck),
        url: c.url,
        ...healthyImageAttributes(c.healthyImage, c.previousHealthyImages),
      },
      remove: WAIT_BOOKKEEPING,
      condition: { expression: '#specVersion = :sv', values: { ':sv': c.specVersion } },
      count: { runningCount: c.runningCount, at: c.now },
    },
    c.events,
  );
}

/** Records that `specVersion` reached steady state while the desired spec moved on; the operation goes on. */
export async function recordConvergence(c: Omit<Completion, 'status' | 'error' | 'url'>): Promise<boolean> {
  return finishWrite(
    c.name,
    c.operationId,
    {
      set: {
        appliedSpecVersion: c.specVersion,
        updatedAt: c.now,
        ...healthyImageAttributes(c.healthyImage, c.previousHealthyImages),
      },
      remove: WAIT_BOOKKEEPING,
      count: { runningCount: c.runningCount, at: c.now },
    },
    c.events,
  );
}

/** Only the events (a convergence after a failed pass changes nothing else), if the operation is ours. */
export async function recordOperationEvents(name: string, operationId: string, now: string, events: EnvironmentEvent[]): Promise<boolean> {
  return finishWrite(name, operationId, { set: { updatedAt: now } }, events);
}

export interface Failure {
  name: string;
  operationId: string;
  /**
   * FAILED for create and update; a failed teardown stays DELETING (a DELETE may retry it);
   * a lost scale settles RUNNING or SLEEPING and a lost heal DEGRADED (scheduled cleanup)
   */
  status: 'FAILED' | 'DELETING' | 'RUNNING' | 'SLEEPING' | 'DEGRADED';
  error: OperationError;
  /** the listener priority to give back (a create whose resources compensation removed) */
  releasePriority?: number;
  /** the shard whose slot to give back, with the priority (functions/adapters/shard-slots.ts) */
  releaseShard?: string;
  now: string;
  events: EnvironmentEvent[];
}

export async function failOperation(f: Failure): Promise<boolean> {
  // nothing runs after a create whose resources compensation removed, nor in a settled sleep: sleeping is free
  const stopped = f.releasePriority !== undefined || f.status === 'SLEEPING';
  return finishWrite(
    f.name,
    f.operationId,
    {
      set: operationEnd(f.status, 'FAILED', f.now, f.error),
      ...(stopped ? { count: { runningCount: 0, at: f.now } } : {}),
      remove: [
        ...WAIT_BOOKKEEPING,
        ...(f.releasePriority !== undefined ? ['listenerPriority'] : []),
        ...(f.releaseShard !== undefined ? ['shard'] : []),
      ],
    },
    f.events,
    [
      ...(f.releasePriority !== undefined ? [releasePriorityTransactItem(f.name, f.releasePriority)] : []),
      ...(f.releaseShard !== undefined ? [await shardSlotRelease(f.releaseShard)] : []),
    ],
  );
}

export interface Deletion {
  name: string;
  operationId: string;
  /** the live counters the environment was counted in (environment-store `countedIn`) */
  counted: readonly string[];
  listenerPriority?: number;
  /** the shard whose slot it held (shard-slots `slotHeld`) */
  shard?: string;
  now: string;
  purgeAt: number;
  events: EnvironmentEvent[];
}

/** Reads of the counters before giving up, when each one changed across zero meanwhile. */
const RELEASE_ATTEMPTS = 5;

/**
 * DELETED: read-only from now on, purged by DynamoDB TTL at `purgeAt`; the listener
 * priority and the shard's slot are freed and the environment stops counting against the live quotas, in one
 * transaction conditioned on the teardown operation still RUNNING: a retried step or a
 * duplicate execution finds it SUCCEEDED and releases nothing. The counters it was counted
 * in are released as far as they go (a missing or zero one is skipped, never negative, and
 * never blocks the others or the teardown: environment-store `liveCountRelease`).
 */
export async function markDeleted(d: Deletion): Promise<boolean> {
  const update: EnvironmentUpdate = {
    set: { ...operationEnd('DELETED', 'SUCCEEDED', d.now), purgeAt: d.purgeAt },
    remove: [...WAIT_BOOKKEEPING, 'listenerPriority', 'shard', 'gsiExpiryPk'],
    count: { runningCount: 0, at: d.now },
  };
  const priority = d.listenerPriority !== undefined ? [releasePriorityTransactItem(d.name, d.listenerPriority)] : [];
  for (let attempt = 1; ; attempt++) {
    const release = liveCountRelease(d.counted, await liveCounts());
    const slot = d.shard !== undefined ? [await shardSlotRelease(d.shard)] : [];
    if (await finishWrite(d.name, d.operationId, update, d.events, [release, ...priority, ...slot], d.purgeAt)) return true;
    // cancelled: either the operation is no longer ours (a retried step, a duplicate execution,
    // a newer operation) and nothing is recorded, or a counter changed across zero since the read
    if (!runsOperation(await getEnvironmentItem(d.name), d.operationId)) return false;
    if (attempt >= RELEASE_ATTEMPTS) {
      // named as DynamoDB names a lost race between transactions, so FinishTeardown's Retry takes it
      throw Object.assign(new Error(`the live counters changed while "${d.name}" was being marked DELETED; retry`), { name: 'TransactionConflictException' });
    }
  }
}

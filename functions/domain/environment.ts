/** The stored environment record, its operations, and the representation the API returns. */
import { isDeepStrictEqual } from 'node:util';
import type { Cost, TaskTime } from './cost.ts';
import { normalizedSpec, type EnvironmentSpec } from './environment-spec.ts';
import type { Status } from './lifecycle.ts';
import { parseDuration } from './durations.ts';
import { publicText } from './public-text.ts';
import type { WorkflowKind } from './workflow-state.ts';

export type OperationType = 'create' | 'update' | 'scale' | 'heal' | 'teardown';
export type OperationStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'STOPPED';

export const ERROR_CODES = [
  'IMAGE_PULL_FAILED', 'TASK_EXITED', 'OUT_OF_MEMORY', 'HEALTH_CHECK_FAILED', 'HOOK_FAILED', 'QUOTA_EXCEEDED', 'DNS_NAME_IN_USE', 'AWS_LIMIT', 'TIMEOUT', 'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface OperationError {
  code: ErrorCode;
  message: string;
  /** the image whose deployment failed (a rolled-back update, scale or heal) */
  image?: string;
}

export interface Operation {
  id: string;
  type: OperationType;
  status: OperationStatus;
  startedAt: string;
  finishedAt?: string;
  error?: OperationError;
  /** the Step Functions execution name (deterministic: `<name>--<id>`) */
  executionName?: string;
  /** the workflow definition running it */
  workflow?: WorkflowKind;
}

export interface EnvironmentRecord {
  name: string;
  spec: EnvironmentSpec;
  specVersion: number;
  appliedSpecVersion?: number;
  status: Status;
  version: number;
  url?: string;
  runningCount: number;
  createdAt: string;
  updatedAt: string;
  expiresAt: string;
  operation?: Operation;
  lastHealthyImage?: string;
  healthyImages?: string[];
  listenerPriority?: number;
  /** the load balancer of the pool it is placed on (functions/domain/shards.ts); unset on records older than the pool: s1 */
  shard?: string;
  /** while the environment sleeps (desired count 0): the count it slept from, which a wake restores */
  sleptFromCount?: number;
  /** times (ISO) of the heal attempts of the last hour that count toward the bound (functions/domain/healing.ts) */
  healAttempts?: string[];
  /**
   * the live counters it was counted in at create (written by the store, never changed):
   * its teardown releases exactly these (README "Expiry, cleanup and quotas")
   */
  quotaCounters?: string[];
  /** the running task-time its cost is estimated from (functions/domain/cost.ts); written with every change of `runningCount` */
  taskTime?: TaskTime;
  /** billed seconds of its hooks' one-off tasks (functions/domain/cost.ts `hookTaskSeconds`), added once per task */
  hookSeconds?: number;
  /** the last hook task whose seconds were added (a retried step adds nothing twice) */
  lastHookTask?: string;
}

/**
 * Whether `operationId` is still the environment's running operation. A workflow step that finds
 * it is not (a DELETE superseded it, or a retried step's first attempt already ended it) records nothing.
 */
export function runsOperation<R extends Pick<EnvironmentRecord, 'operation'>>(
  record: R | undefined,
  operationId: string,
): record is R & { operation: Operation } {
  return record?.operation?.id === operationId && record.operation.status === 'RUNNING';
}

/** An operation that failed and left the environment FAILED or DEGRADED: its error says where its logs are. */
const failedHere = (record: EnvironmentRecord) =>
  record.operation?.status === 'FAILED' && (record.status === 'FAILED' || record.status === 'DEGRADED');

/** The logs route's path for the container output since the operation started (README "Using the API"). */
export const logsOfOperation = (name: string, operation: Pick<Operation, 'startedAt'>) =>
  `/v1/environments/${name}/logs?since=${operation.startedAt}`;

/**
 * What `GET /v1/environments/{name}` returns: the spec fields and the read-only fields, side by
 * side, and its estimated `cost` when the region's price is known (functions/domain/cost.ts).
 */
export function toRepresentation(record: EnvironmentRecord, cost?: Cost) {
  const { operation } = record;
  return {
    name: record.name,
    ...record.spec,
    status: record.status,
    url: record.url ?? null,
    runningCount: record.runningCount,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    expiresAt: record.expiresAt,
    version: record.version,
    operation: operation
      ? {
          id: operation.id,
          type: operation.type,
          status: operation.status,
          startedAt: operation.startedAt,
          finishedAt: operation.finishedAt ?? null,
          // plain words only: the last line of defence for records written before errors were worded (public-text.ts)
          error: operation.error
            ? { ...operation.error, message: publicText(operation.error.message), ...(failedHere(record) ? { logs: logsOfOperation(record.name, operation) } : {}) }
            : null,
        }
      : null,
    lastHealthyImage: record.lastHealthyImage ?? null,
    ...(cost ? { cost } : {}),
  };
}

export type EnvironmentRepresentation = ReturnType<typeof toRepresentation>;

export function sameSpec(a: EnvironmentSpec, b: EnvironmentSpec): boolean {
  // a record stored before empty lists were dropped at parse still equals the same spec without them
  return isDeepStrictEqual(normalizedSpec(a), normalizedSpec(b));
}

export function expiresAtFor(spec: EnvironmentSpec, from: Date): string {
  const ttlMs = parseDuration(spec.ttl);
  if (ttlMs === undefined) throw new Error(`invalid ttl "${spec.ttl}" in a validated spec`);
  return new Date(from.getTime() + ttlMs).toISOString();
}

export function newOperationId(version: number): string {
  return `op-${version}-${crypto.randomUUID().slice(0, 8)}`;
}

export function executionNameFor(name: string, operationId: string): string {
  return `${name}--${operationId}`;
}

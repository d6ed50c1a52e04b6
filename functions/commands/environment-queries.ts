/**
 * What the read routes do (`GET /v1/environments[/{name}[/events]]`): what a caller may see
 * (caller.ts), read through the store. Handlers parse the query and shape the answer.
 */
import { decodeEventCursor, everyEnvironment, eventsQueryId, getEnvironment, listEnvironments, type ListQuery } from '#adapters/environment-store.ts';
import { encodeCursor } from '#domain/cursors.ts';
import { eventsSinceKey, listEvents } from '#adapters/event-log.ts';
import { isOperator, listScope } from '#domain/caller.ts';
import type { EnvironmentRecord } from '#domain/environment.ts';
import type { EnvironmentEvent } from '#domain/events.ts';
import { renderPlan, type ResourcePlan } from '#domain/resource-plan.ts';
import { ValidationFailed } from '#domain/errors.ts';
import { visibleOrNotFound, type TenantCaller } from './environment-commands.ts';
import { recordScope } from './shard-scope.ts';

/** The environment `name`; another repository's is the same 404 as an unknown name. */
export async function readEnvironment(caller: TenantCaller, name: string): Promise<EnvironmentRecord> {
  return visibleOrNotFound(caller, name, await getEnvironment(name));
}

export interface EnvironmentList {
  items: EnvironmentRecord[];
  nextCursor: string | null;
  /** the cursor that continues the list after the named environment (a page cut short to fit a response) */
  cursorAfter(name: string): string;
}

/** A page of the environments the caller may see, filtered as asked. */
export async function listVisibleEnvironments(caller: TenantCaller, query: ListQuery): Promise<EnvironmentList> {
  // a repository caller lists only its repositories, through the byRepository index (functions/domain/caller.ts listScope)
  const scope = listScope(caller.principal, query.repository);
  if (scope.kind === 'ambiguous') throw new ValidationFailed('name the repository to list', [{ path: 'repository', message: scope.message }]);
  if (scope.kind === 'nothing') return { items: [], nextCursor: null, cursorAfter: () => '' };
  return listEnvironments({ ...query, repository: scope.repository });
}

/**
 * Every live environment of `repository` the caller may see, all pages read (the repository's
 * cost total). At most the per-repository quota of them is live; the byRepository index also
 * holds its DELETED records until they are purged, which the query reads and filters out.
 */
export async function repositoryEnvironments(caller: TenantCaller, repository: string): Promise<EnvironmentRecord[]> {
  // another repository's environments are nothing to this caller: a total of none
  const scope = listScope(caller.principal, repository);
  return scope.kind === 'nothing' || scope.kind === 'ambiguous' ? [] : everyEnvironment({ repository });
}

/** A page of the history of `name`, newest first. */
export async function listVisibleEvents(
  caller: TenantCaller,
  name: string,
  limit: number,
  cursor: string | undefined,
): Promise<{ items: EnvironmentEvent[]; nextCursor: string | null }> {
  const startKey = cursor === undefined ? undefined : decodeEventCursor(cursor, name);
  const record = await readEnvironment(caller, name);
  // a repository caller sees the history of the name since its environment was created, not
  // that of an earlier environment (maybe another repository's) that held the name
  const since = isOperator(caller.principal) ? undefined : record.createdAt;
  if (since && startKey && String(startKey.sk) < eventsSinceKey(since)) {
    throw new ValidationFailed('invalid cursor', [{ path: 'cursor', message: 'not a cursor returned by this list' }]);
  }
  const page = await listEvents(name, limit, startKey, since);
  return { items: page.items, nextCursor: page.lastKey ? encodeCursor(eventsQueryId(name), page.lastKey) : null };
}

/**
 * The resources of the spec an environment last applied (local mode rebuilds its simulated
 * resources from these after a restart: the table outlives the simulator).
 */
export function appliedResourcePlan(record: EnvironmentRecord, operationId: string): ResourcePlan {
  return renderPlan(record.name, record.spec, recordScope(record), operationId, record.appliedSpecVersion ?? record.specVersion ?? 1);
}

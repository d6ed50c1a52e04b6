/**
 * What `GET /v1/environments/{name}/logs` does: the environment as the caller may see it
 * (another repository's is a 404), its tasks' container output from CloudWatch Logs
 * (functions/adapters/environment-logs.ts says how the lines are scoped to its tasks), a page
 * of it oldest first and a cursor that continues after the page's last line.
 */
import { environmentTaskIds, readTaskLogs, type RawLogLine } from '#adapters/environment-logs.ts';
import { runtimeConfig } from '#runtime/config.ts';
import { isOperator } from '#domain/caller.ts';
import { positionAfter, startOfRead, encodeLogCursor, type LogLine, type LogPosition } from '#domain/log-query.ts';
import { publicLogText } from '#domain/public-text.ts';
import { CONTAINER_NAME, renderTaskDefinition, taskDefinitionFamily, taskDefinitionHash } from '#domain/resource-plan.ts';
import type { EnvironmentRecord } from '#domain/environment.ts';
import { readEnvironment } from './environment-queries.ts';
import type { TenantCaller } from './environment-commands.ts';

export interface LogsRequest {
  /** ms; undefined: from the start of what ECS still lists */
  since?: number;
  limit: number;
  /** a decoded cursor (functions/domain/log-query.ts) */
  cursor?: LogPosition;
}

export interface LogsPage {
  items: LogLine[];
  nextCursor: string | null;
  /** the cursor that continues after the first `count` items (a page cut short to fit a response) */
  cursorAfter(count: number): string;
}

/** The task definition family the environment's spec renders to: how its tasks are found once its service is gone. */
function familyOf(record: EnvironmentRecord): string {
  return taskDefinitionFamily(taskDefinitionHash(renderTaskDefinition(record.spec, runtimeConfig()), record.spec.labels.repository));
}

const lineOf = (line: RawLogLine): LogLine => ({
  at: new Date(line.timestamp).toISOString(),
  message: publicLogText(line.message),
  task: line.task,
  container: line.container,
});

export async function listVisibleLogs(caller: TenantCaller, name: string, request: LogsRequest): Promise<LogsPage> {
  const record = await readEnvironment(caller, name);
  // a repository caller reads nothing from before its environment was created (an earlier
  // environment of the name may have been another repository's), as with its events
  const notBefore = isOperator(caller.principal) ? undefined : Date.parse(record.createdAt);
  const start = startOfRead(request.since, request.cursor, notBefore);
  const config = runtimeConfig();
  const taskIds = await environmentTaskIds(config.clusterArn, name, familyOf(record));
  if (taskIds.length === 0) return { items: [], nextCursor: null, cursorAfter: () => encodeLogCursor(name, start) };
  // the sidecars the spec names now: a sidecar removed since leaves its older streams unread
  const containers = [CONTAINER_NAME, ...(record.spec.sidecars ?? []).map((sidecar) => sidecar.name)];
  const read = await readTaskLogs(config.logGroup, taskIds, start, request.limit, containers);
  const cursorAfter = (count: number) => encodeLogCursor(name, count > 0 ? positionAfter(read.lines.slice(0, count), start) : start);
  return {
    items: read.lines.map(lineOf),
    nextCursor: read.more ? cursorAfter(read.lines.length) : null,
    cursorAfter,
  };
}

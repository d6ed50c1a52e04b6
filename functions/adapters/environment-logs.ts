/**
 * An environment's container output in CloudWatch Logs.
 *
 * Task definitions are shared (docs/design.md "Shared task definitions"), so the awslogs stream
 * prefix is the same for every environment and a stream name, `fledge/app/<ecs task id>`
 * (Amazon ECS Developer Guide, "Using the awslogs log driver": `prefix-name/container-name/ecs-task-id`),
 * names no environment. The environment's streams are therefore found through its tasks:
 *  - ListTasks by service name, desired status RUNNING and STOPPED (ListTasks, Amazon ECS API
 *    Reference: "Recently stopped tasks might appear in the returned results"; older revisions
 *    of that page said "for at least one hour", the current one promises no time);
 *  - once the service is gone (a failed create's compensation deleted it), ListTasks by the
 *    family of the environment's task definition, STOPPED, kept only when DescribeTasks says the
 *    task's group is `service:<name>`;
 *  - its hooks' tasks (RunTask from the workflows, group `hook:<name>`): ListTasks by that family,
 *    RUNNING and STOPPED (a hook of a definition the record's spec no longer renders to, after a
 *    rollback, is not found).
 * FilterLogEvents then reads exactly those streams: `logStreamNames` takes at most 100 names
 * (CloudWatch Logs API Reference, FilterLogEvents; a `logStreamNamePrefix` cannot tell
 * environments apart), so more tasks are read 100 streams at a time and merged by time.
 * Lines of a task ECS no longer lists (stopped a while ago, about an hour in practice) are not found,
 * though CloudWatch keeps them for the log group's retention.
 */
import { FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CONTAINER_NAME, LOG_STREAM_PREFIX } from '#domain/resource-plan.ts';
import type { LogPosition } from '#domain/log-query.ts';
import { logsClient } from './clients/logs.ts';
import { describeTasks, FAMILY_PAGES, listTaskArns, serviceIsGone, type DescribedTask } from './fargate-resources.ts';

/** Pages of 100 task ARNs read per desired status of a live service (a crash loop leaves many stopped tasks). */
const SERVICE_PAGES = 3;
/** FilterLogEvents' `logStreamNames` holds at most 100 names. */
export const MAX_STREAMS_PER_FILTER = 100;
/** FilterLogEvents calls per group of 100 streams and request ("This operation can return empty results while there are more log events available through the token"). */
const CALLS_PER_GROUP = 10;

const taskIdOf = (taskArn: string) => taskArn.slice(taskArn.lastIndexOf('/') + 1);

/**
 * Whether a container of the task ever started, so the awslogs driver made its stream: a task
 * whose image could not be pulled, or that is still being placed, has none, and naming a stream
 * that does not exist fails FilterLogEvents (ResourceNotFoundException).
 */
const containerStarted = (task: DescribedTask) =>
  task.startedAt !== undefined || (task.containers ?? []).some((c) => c.runtimeId !== undefined || c.exitCode !== undefined);

/**
 * The ids of the environment's tasks ECS still lists whose container started: its service's
 * running and stopped ones, or, when the service is gone, the stopped tasks of `family` whose
 * group is the service's.
 */
export async function environmentTaskIds(clusterArn: string, name: string, family: string | undefined): Promise<string[]> {
  let arns: string[] = [];
  let byFamily = false;
  try {
    for (const desiredStatus of ['RUNNING', 'STOPPED'] as const) arns.push(...(await listTaskArns(clusterArn, { serviceName: name }, SERVICE_PAGES, desiredStatus)));
  } catch (error) {
    if (!serviceIsGone(error)) throw error;
    byFamily = true;
    arns = family ? await listTaskArns(clusterArn, { family }, FAMILY_PAGES) : [];
  }
  // its hooks' one-off tasks (RunTask, group `hook:<name>`) run the environment's definition outside the service
  const hookArns = family ? [...(byFamily ? arns : await listTaskArns(clusterArn, { family }, FAMILY_PAGES)), ...(await listTaskArns(clusterArn, { family }, 1, 'RUNNING'))] : [];
  const candidates = [...new Set([...arns, ...hookArns])];
  if (candidates.length === 0) return [];
  const described = await describeTasks(clusterArn, candidates);
  const fromService = new Set(byFamily ? [] : arns);
  const ours = described.filter(
    (task) => task.taskArn && (fromService.has(task.taskArn) || task.group === `service:${name}` || task.group === `hook:${name}`) && containerStarted(task),
  );
  return [...new Set(ours.map((task) => taskIdOf(task.taskArn!)))].sort();
}

/** The awslogs stream of a task's container (the app's unless named: a sidecar's is `fledge/<sidecar>/<task id>`). */
export const logStreamOf = (taskId: string, container: string = CONTAINER_NAME) => `${LOG_STREAM_PREFIX}/${container}/${taskId}`;

export interface RawLogLine {
  timestamp: number;
  message: string;
  task: string;
  container: string;
}

export interface LogRead {
  /** oldest first, at most `limit` */
  lines: RawLogLine[];
  /** whether more lines may follow the last one */
  more: boolean;
}

/** `prefix/container/task-id` -> its container and task (awslogs' names; anything else is not ours). */
function streamParts(stream: string): { container: string; task: string } | undefined {
  const match = /^[^/]+\/([^/]+)\/([^/]+)$/.exec(stream);
  return match ? { container: match[1]!, task: match[2]! } : undefined;
}

/** The streams of `streams` that exist: FilterLogEvents of each alone (the rare case of a stream not made yet). */
async function existingStreams(logGroup: string, streams: readonly string[], startTime: number): Promise<string[]> {
  const existing: string[] = [];
  for (const stream of streams) {
    try {
      await logsClient().send(new FilterLogEventsCommand({ logGroupName: logGroup, logStreamNames: [stream], startTime, limit: 1 }));
      existing.push(stream);
    } catch (error) {
      if ((error as Error).name !== 'ResourceNotFoundException') throw error;
    }
  }
  return existing;
}

/**
 * Up to `limit` lines of the tasks' streams from `start` on (skipping the `start.skip` lines at
 * exactly `start.from`), oldest first. FilterLogEvents sorts each call's events by timestamp
 * (then ingestion); groups of 100 streams are merged by timestamp.
 */
export async function readTaskLogs(
  logGroup: string,
  taskIds: readonly string[],
  start: LogPosition,
  limit: number,
  containers: readonly string[] = [CONTAINER_NAME],
): Promise<LogRead> {
  const wanted = start.skip + limit + 1;
  const groups: RawLogLine[][] = [];
  /** the last timestamp a group was read to when it still had more: nothing later is certain */
  let certainUntil = Infinity;
  // every container of every task: the app's stream, then its sidecars'
  const allStreams = taskIds.flatMap((taskId) => containers.map((container) => logStreamOf(taskId, container)));
  for (let i = 0; i < allStreams.length; i += MAX_STREAMS_PER_FILTER) {
    const streams = allStreams.slice(i, i + MAX_STREAMS_PER_FILTER);
    const lines: RawLogLine[] = [];
    let nextToken: string | undefined;
    for (let calls = 0; calls < CALLS_PER_GROUP; calls++) {
      let page;
      try {
        page = await logsClient().send(
          new FilterLogEventsCommand({ logGroupName: logGroup, logStreamNames: streams, startTime: start.from, limit: Math.min(10_000, wanted - lines.length), nextToken }),
        );
      } catch (error) {
        if ((error as Error).name !== 'ResourceNotFoundException' || nextToken !== undefined) throw error;
        // no task has written yet (the group is the stack's on AWS), or a stream named does not
        // exist (a task that has only just started its container): read again without the
        // streams that do not exist, found one by one
        if (/log group/i.test((error as Error).message)) break;
        const existing = await existingStreams(logGroup, streams, start.from);
        if (existing.length === 0 || existing.length === streams.length) break;
        streams.splice(0, streams.length, ...existing);
        continue;
      }
      for (const event of page.events ?? []) {
        const parts = streamParts(event.logStreamName ?? '');
        if (parts && event.timestamp !== undefined) lines.push({ timestamp: event.timestamp, message: event.message ?? '', ...parts });
      }
      nextToken = page.nextToken;
      if (!nextToken || lines.length >= wanted) break;
    }
    if (nextToken) certainUntil = Math.min(certainUntil, lines.length ? lines[lines.length - 1]!.timestamp : start.from);
    groups.push(lines);
  }
  // a stable sort keeps each group's own order for equal timestamps
  const merged = groups.flat().sort((a, b) => a.timestamp - b.timestamp);
  const certain = merged.filter((line) => line.timestamp <= certainUntil);
  const afterSkip = certain.slice(Math.min(start.skip, certain.filter((line) => line.timestamp === start.from).length));
  return { lines: afterSkip.slice(0, limit), more: afterSkip.length > limit || certain.length < merged.length || certainUntil !== Infinity };
}

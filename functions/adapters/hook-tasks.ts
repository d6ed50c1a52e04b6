/**
 * Stopping a hook's task that outlived its state (docs/design.md "Hooks"). When a hook's
 * `ecs:runTask.sync` state times out (States.Timeout), AWS documents no stop of the task it
 * waited for ("Run Amazon ECS or Fargate tasks with Step Functions",
 * https://docs.aws.amazon.com/step-functions/latest/dg/connect-ecs.html), so the task could keep
 * running, and billing, on its own. RecordHookRun finds it and stops it:
 *  - ListTasks by `startedBy: fledge-hook` alone ("When you specify startedBy as the filter, it
 *    must be the only filter that you use", Amazon ECS API Reference, ListTasks; desiredStatus
 *    then defaults to RUNNING), every page;
 *  - DescribeTasks, keeping the environment's own (group `hook:<name>`, as the hook's RunTask sets it);
 *  - StopTask each: SIGTERM, then SIGKILL after the stop timeout (Amazon ECS API Reference, StopTask).
 * Hooks of one environment run one after another, so its running hook tasks are this run's (or an
 * orphan of an earlier one, stopped as well).
 */
import { StopTaskCommand } from '@aws-sdk/client-ecs';
import type { BilledTask } from '#domain/cost.ts';
import { ecsClient } from './clients/ecs.ts';
import { describeTasks, listTaskArns } from './fargate-resources.ts';

/** Pages of 100 running hook tasks of the installation searched for the environment's. */
const HOOK_TASK_PAGES = 10;

/** A hook task that was stopped: what its billed time is counted from (stopped now). */
export type StoppedHookTask = BilledTask & { taskArn: string };

/** Stops the environment's running hook tasks; the ones it stopped (none when they had stopped already). */
export async function stopHookTasks(clusterArn: string, name: string, reason: string): Promise<StoppedHookTask[]> {
  const arns = await listTaskArns(clusterArn, { startedBy: 'fledge-hook' }, HOOK_TASK_PAGES);
  if (arns.length === 0) return [];
  const ours = (await describeTasks(clusterArn, arns)).filter((task) => task.group === `hook:${name}` && task.taskArn);
  const stopped: StoppedHookTask[] = [];
  for (const task of ours) {
    const { task: answered } = await ecsClient().send(new StopTaskCommand({ cluster: clusterArn, task: task.taskArn, reason: reason.slice(0, 255) }));
    stopped.push({
      taskArn: task.taskArn!,
      createdAt: answered?.createdAt,
      pullStartedAt: answered?.pullStartedAt,
      startedAt: answered?.startedAt ?? task.startedAt,
      stoppedAt: new Date(),
    });
  }
  return stopped;
}

/**
 * RecordHookRun (create, update, teardown): a hook's RunTask state has ended (the stopped task,
 * or the error its Catch caught). Judge it (functions/domain/hook-runs.ts), count its task's
 * billed seconds in the cost (adapters/hook-task-time.ts, once per task) and record the event
 * `hook` `{hook, exitCode, durationSeconds, logStream}`, then
 * hand the workflow its outcome: the state without the run when the hook succeeded, or the error
 * HookFailed with the operation's plain-words message (HOOK_FAILED), which the state's Catch
 * sends down the workflow's failure path. A beforeDelete hook never fails the teardown: its
 * failure is recorded and the teardown goes on. A run whose state timed out has its task
 * stopped here (AWS documents no stop by Step Functions).
 */
import { logger } from '#runtime/powertools.ts';
import { environmentEvent } from '#domain/events.ts';
import type { HookName, HookPlan } from '#domain/hooks.ts';
import { hookRunTask, judgeHookRun, type HookRunResult, type SyncTaskDescription } from '#domain/hook-runs.ts';
import { HOOK_FAILED_ERROR } from '#domain/task-failure.ts';
import type { WorkflowState } from '#domain/workflow-state.ts';
import { appendEvents } from '#adapters/event-log.ts';
import { recordHookTaskTime } from '#adapters/hook-task-time.ts';
import { stopHookTasks, type StoppedHookTask } from '#adapters/hook-tasks.ts';
import { runtimeConfig } from '#runtime/config.ts';

export class HookFailed extends Error {
  override readonly name = HOOK_FAILED_ERROR;
}

/** Where the hook's output is: the environment's logs from the task's start on. */
function logsPath(name: string, startedAt: number | string | undefined): string {
  const since = startedAt === undefined ? undefined : new Date(startedAt);
  const query = since && !Number.isNaN(since.getTime()) ? `?since=${since.toISOString()}` : '';
  return `/v1/environments/${name}/logs${query}`;
}

export async function recordHookRun(hook: HookName, state: WorkflowState): Promise<WorkflowState> {
  const { hookRun, ...rest } = state as WorkflowState & { hookRun?: HookRunResult };
  const plan = (state.plan?.hooks as Partial<Record<HookName, HookPlan>> | undefined)?.[hook];
  if (!plan || !hookRun) throw new Error(`RecordHookRun: the state has no ${hook} hook run to record`);
  const described = hookRunTask(hookRun);
  const judged = judgeHookRun(hook, plan, hookRun, logsPath(state.name, described?.StartedAt));
  const details = { hook, exitCode: judged.exitCode, durationSeconds: judged.durationSeconds, ...(judged.logStream ? { logStream: judged.logStream } : {}), ...(judged.timedOut ? { timedOut: true } : {}) };
  const message = judged.failure
    ? `${judged.failure.message}${hook === 'beforeDelete' ? ' (the teardown goes on)' : ''}`
    : `the ${hook} hook exited with code 0 after ${judged.durationSeconds} s`;
  // the state timed out: AWS documents no stop of its task, so it is stopped here and billed until now
  const stopped = 'Error' in hookRun && hookRun.Error === 'States.Timeout' ? await stopTimedOutHook(hook, state.name) : [];
  const billedTask = described?.TaskArn ? billed(described) : stopped[0];
  // a retried step finds the task's time added already: its event was written then too
  const recorded = billedTask ? await recordHookTaskTime(state.name, billedTask) : true;
  if (recorded) await appendEvents(state.name, [environmentEvent({ state, type: 'hook', message, details })]);
  logger.info('hook run', { ...details, failed: Boolean(judged.failure), recorded, ...(judged.failure ? { error: 'Error' in hookRun ? hookRun.Error : undefined } : {}) });
  const done = { ...rest, hooksRun: { ...((state.hooksRun as Record<string, boolean> | undefined) ?? {}), [hook]: true } };
  if (judged.failure && hook !== 'beforeDelete') throw new HookFailed(judged.failure.message);
  return done;
}

/**
 * Stops the environment's hook task still running after its state timed out
 * (adapters/hook-tasks.ts). Throttling goes back to the step's Retry; any other fault is logged
 * and the run is recorded anyway (the hook failed either way; the stuck task is in the log).
 */
async function stopTimedOutHook(hook: HookName, name: string): Promise<StoppedHookTask[]> {
  try {
    const stopped = await stopHookTasks(runtimeConfig().clusterArn, name, `the ${hook} hook timed out (Fledge)`);
    logger.info('stopped a timed-out hook task', { hook, tasks: stopped.map((t) => t.taskArn) });
    return stopped;
  } catch (error) {
    if (/Throttl/.test((error as Error).name)) throw error;
    logger.error('could not stop a timed-out hook task', { hook, error: error as Error });
    return [];
  }
}

/** What Fargate bills of the task, from its description (epoch ms). */
function billed(task: SyncTaskDescription) {
  const date = (value: number | string | undefined) => (value === undefined ? undefined : new Date(value));
  return { taskArn: task.TaskArn!, pullStartedAt: date(task.PullStartedAt), startedAt: date(task.StartedAt), createdAt: date(task.CreatedAt), stoppedAt: date(task.StoppedAt) };
}

/**
 * How a finished hook run is judged (docs/design.md "Hooks"): from what Step Functions'
 * `ecs:runTask.sync` handed back, the `app` container's exit code, how long the command ran,
 * its log stream, whether it timed out, and HOOK_FAILED in plain words. Pure.
 */
import type { OperationError } from './environment.ts';
import { HOOK_PROVISIONING_SECONDS, type HookName, type HookPlan } from './hooks.ts';
import { publicErrorName } from './public-text.ts';

/**
 * What Step Functions' `ecs:runTask.sync` hands back: the stopped task as DescribeTasks describes
 * it, in PascalCase with times in epoch milliseconds, as the state's output when every container
 * exited 0, else in the `Cause` (JSON) of `States.TaskFailed` ("Run Amazon ECS or Fargate tasks
 * with Step Functions"; any container's non-zero exit fails the state, a sidecar's too).
 */
export interface SyncTaskDescription {
  TaskArn?: string;
  LastStatus?: string;
  CreatedAt?: number | string;
  PullStartedAt?: number | string;
  StartedAt?: number | string;
  StoppedAt?: number | string;
  ExecutionStoppedAt?: number | string;
  StopCode?: string;
  StoppedReason?: string;
  Containers?: { Name?: string; ExitCode?: number; Reason?: string }[];
}

/**
 * The exit codes of a container the task's stop killed: 128 + SIGTERM (15) and 128 + SIGKILL (9).
 * When the essential `app` container exits, ECS stops the task's other containers as StopTask
 * does: SIGTERM, then SIGKILL after the container's stopTimeout (Amazon ECS Developer Guide,
 * task definition parameters, `essential` and `stopTimeout`; Amazon ECS API Reference,
 * StopTask). A sidecar that does not trap SIGTERM exits 143 (or 137 when killed), which fails
 * `ecs:runTask.sync` (States.TaskFailed) though the hook's command succeeded.
 */
export const STOP_SIGNAL_EXIT_CODES: readonly number[] = [143, 137];

/** A RunTask state's result as the workflow hands it to RecordHookRun: the task, or the error its Catch caught. */
export type HookRunResult = { task: SyncTaskDescription } | { Error?: string; Cause?: string };

export interface JudgedHookRun {
  hook: HookName;
  exitCode: number | null;
  durationSeconds: number;
  /** `fledge/app/<task id>` (the awslogs stream of the `app` container), when the task started */
  logStream?: string;
  timedOut: boolean;
  /** set when the hook failed: HOOK_FAILED in plain words (no ARN, no AWS text) */
  failure?: OperationError;
}

const millis = (value: number | string | undefined) => (value === undefined ? undefined : typeof value === 'number' ? value : Date.parse(value));

/** The stopped task of a run: the state's output, or the Cause of States.TaskFailed. */
export function hookRunTask(result: HookRunResult): SyncTaskDescription | undefined {
  if ('task' in result) return result.task;
  if (result.Error !== 'States.TaskFailed' || !result.Cause) return undefined;
  try {
    const parsed = JSON.parse(result.Cause) as SyncTaskDescription;
    return parsed && typeof parsed === 'object' && typeof parsed.TaskArn === 'string' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Judges a finished hook run: its `app` container's exit code, how long the task ran, and whether
 * it failed. A run longer than the hook's timeoutSeconds is a timed-out hook even if it exited 0;
 * a state that timed out (States.Timeout: RecordHookRun stops the task) timed out after the
 * whole state budget.
 */
export function judgeHookRun(hook: HookName, plan: HookPlan, result: HookRunResult, logsPath: string): JudgedHookRun {
  const task = hookRunTask(result);
  const error = 'task' in result ? undefined : result;
  const started = millis(task?.StartedAt);
  const stopped = millis(task?.ExecutionStoppedAt) ?? millis(task?.StoppedAt);
  const durationSeconds = started !== undefined && stopped !== undefined ? Math.max(0, Math.round((stopped - started) / 1000)) : 0;
  const containers = task?.Containers ?? [];
  const app = containers.find((c) => c.Name === 'app');
  const exitCode = typeof app?.ExitCode === 'number' ? app.ExitCode : null;
  const taskId = task?.TaskArn?.slice(task.TaskArn.lastIndexOf('/') + 1);
  const logStream = taskId && started !== undefined ? `fledge/app/${taskId}` : undefined;
  const stateTimedOut = error?.Error === 'States.Timeout';
  const timedOut = stateTimedOut || durationSeconds > plan.timeoutSeconds;
  const base = { hook, exitCode, durationSeconds, ...(logStream ? { logStream } : {}), timedOut };
  const logs = `its logs: GET ${logsPath}`;
  if (stateTimedOut) {
    return { ...base, failure: { code: 'HOOK_FAILED', message: `the ${hook} hook timed out: it did not finish within ${plan.stateTimeoutSeconds} s (its timeoutSeconds ${plan.timeoutSeconds} s plus ${HOOK_PROVISIONING_SECONDS} s to start) and was stopped; ${logs}` } };
  }
  if (timedOut) {
    return { ...base, failure: { code: 'HOOK_FAILED', message: `the ${hook} hook timed out after ${durationSeconds} s (timeoutSeconds ${plan.timeoutSeconds}); ${logs}` } };
  }
  if (!error || stoppedWithTheApp(task, exitCode)) return base;
  if (exitCode !== null && exitCode !== 0) {
    return { ...base, failure: { code: 'HOOK_FAILED', message: `the ${hook} hook exited with code ${exitCode} after ${durationSeconds} s; ${logs}` } };
  }
  // name the sidecar that failed on its own, not one the task's stop then killed
  const failedSidecars = containers.filter((c) => c.Name !== 'app' && c.ExitCode !== 0);
  const sidecar = failedSidecars.find((c) => typeof c.ExitCode === 'number' && !STOP_SIGNAL_EXIT_CODES.includes(c.ExitCode)) ?? failedSidecars[0];
  if (exitCode === 0 && sidecar) {
    return { ...base, failure: { code: 'HOOK_FAILED', message: `the ${hook} hook's command exited 0 after ${durationSeconds} s, but its sidecar ${sidecar.Name} ${typeof sidecar.ExitCode === 'number' ? `exited with code ${sidecar.ExitCode}` : 'did not run'}, which fails the run; ${logs}` } };
  }
  if (task && started === undefined) {
    return { ...base, failure: { code: 'HOOK_FAILED', message: `the ${hook} hook's task failed to start (${task.StopCode ?? 'no stop code'}); ${logs}` } };
  }
  return { ...base, failure: { code: 'HOOK_FAILED', message: `the ${hook} hook's task could not be run${publicErrorName(error.Error) ? ` (${publicErrorName(error.Error)})` : ''}; ${logs}` } };
}

/**
 * A States.TaskFailed that is the hook's success: the app's command exited 0, the task stopped
 * because of it (StopCode EssentialContainerExited) and every sidecar exited 0 or of the stop
 * signals ECS then sent it (STOP_SIGNAL_EXIT_CODES). A sidecar that exited otherwise (a crash,
 * before or after the app) or never ran still fails the run. A sidecar that died of a signal
 * before the app stopped looks the same as one stopped with the task (DescribeTasks gives no
 * per-container stop time): it counts as stopped with the task.
 */
function stoppedWithTheApp(task: SyncTaskDescription | undefined, appExit: number | null): boolean {
  if (!task || appExit !== 0 || task.StopCode !== 'EssentialContainerExited') return false;
  return (task.Containers ?? []).every((c) => c.Name === 'app' || c.ExitCode === 0 || (typeof c.ExitCode === 'number' && STOP_SIGNAL_EXIT_CODES.includes(c.ExitCode)));
}

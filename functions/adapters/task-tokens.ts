/**
 * Completes a workflow step that waits with a task token (`lambda:invoke.waitForTaskToken`).
 * A token that Step Functions no longer knows (the step already completed, timed out, or
 * its execution stopped) answers TaskTimedOut / InvalidToken / TaskDoesNotExist: for a
 * duplicate event that is the expected outcome, so it is reported, not thrown.
 */
import { SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import type { ServiceView, SteadyVerdict } from '#domain/steady-state.ts';
import { sfnClient } from './clients/sfn.ts';
import { clearWaitToken } from './operation-store.ts';

const CLOSED_TOKEN_ERRORS = new Set(['TaskTimedOut', 'InvalidToken', 'TaskDoesNotExist']);

/** true when the step was completed now; false when the token was already closed */
export async function sendTaskSuccess(taskToken: string, output: unknown): Promise<boolean> {
  try {
    await sfnClient().send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output ?? {}) }));
    return true;
  } catch (error) {
    if (CLOSED_TOKEN_ERRORS.has((error as Error).name)) return false;
    throw error;
  }
}

/** `error` is what the workflow's Retry/Catch match on; `cause` is for people (max 32 KiB). */
export async function sendTaskFailure(taskToken: string, error: string, cause: string): Promise<boolean> {
  try {
    await sfnClient().send(
      new SendTaskFailureCommand({ taskToken, error: error.slice(0, 256), cause: cause.slice(0, 32_000) }),
    );
    return true;
  } catch (failure) {
    if (CLOSED_TOKEN_ERRORS.has((failure as Error).name)) return false;
    throw failure;
  }
}

/**
 * Ends a wait for steady state on its verdict (the waiting step's own poll or an ECS event):
 * success carries the service's counts and task definition, a failure the verdict's error;
 * then the token is forgotten. True when the step was completed now.
 */
export async function answerWait(
  name: string,
  taskToken: string,
  verdict: Exclude<SteadyVerdict, { kind: 'waiting' }>,
  service: Pick<ServiceView, 'runningCount' | 'desiredCount' | 'taskDefinitionArn'> | undefined,
): Promise<boolean> {
  const sent =
    verdict.kind === 'steady'
      ? await sendTaskSuccess(taskToken, {
          runningCount: service?.runningCount ?? 0,
          desiredCount: service?.desiredCount ?? 0,
          taskDefinitionArn: service?.taskDefinitionArn,
        })
      : await sendTaskFailure(taskToken, verdict.error, verdict.cause);
  await clearWaitToken(name, taskToken);
  return sent;
}

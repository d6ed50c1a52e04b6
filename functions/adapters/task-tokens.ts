/**
 * Completes a workflow step that waits with a task token (`lambda:invoke.waitForTaskToken`).
 * A token that Step Functions no longer knows (the step already completed, timed out, or
 * its execution stopped) answers TaskTimedOut / InvalidToken / TaskDoesNotExist: for a
 * duplicate event that is the expected outcome, so it is reported, not thrown.
 */
import { SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { sfnClient } from './clients/sfn.ts';

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

/**
 * Starts, stops and looks up the Step Functions workflows. Execution names are deterministic
 * (`<name>--<operationId>`), so a retried start of the same operation cannot run it twice:
 * Step Functions answers a repeated StartExecution with the same name and input with the
 * execution it already has.
 */
import { DescribeExecutionCommand, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { logger } from '#runtime/powertools.ts';
import { stateMachineArn } from '#runtime/config.ts';
import type { OperationError } from '#domain/environment.ts';
import type { WorkflowKind } from '#domain/workflow-state.ts';
import { sfnClient } from './clients/sfn.ts';

export type { WorkflowKind };

export function executionArnFor(kind: WorkflowKind, executionName: string): string {
  return `${stateMachineArn(kind).replace(':stateMachine:', ':execution:')}:${executionName}`;
}

const THROTTLED = /Throttl|TooManyRequests|LimitExceeded|Rate exceeded/i;

/**
 * StartExecution failed. Step Functions' message names the state machine's and the caller's
 * ARNs (account id, role): it goes to the log, and callers get this error's plain words and
 * code (docs/security.md "What reaches callers").
 */
export class WorkflowNotStarted extends Error {
  override readonly name = 'WorkflowNotStarted';
  readonly failure: OperationError;
  constructor(kind: WorkflowKind, throttled: boolean) {
    super(`the ${kind} workflow could not be started${throttled ? ': Step Functions throttled the request and retries did not get past it' : ''}`);
    this.failure = { code: throttled ? 'AWS_LIMIT' : 'INTERNAL', message: `${this.message}; the operators' logs have the details` };
  }
}

export async function startWorkflow(kind: WorkflowKind, executionName: string, input: unknown): Promise<string> {
  try {
    const result = await sfnClient().send(
      new StartExecutionCommand({ stateMachineArn: stateMachineArn(kind), name: executionName, input: JSON.stringify(input) }),
    );
    return result.executionArn as string;
  } catch (error) {
    const { name, message } = error as Error;
    logger.error('StartExecution failed', { workflow: kind, executionName, error: { name, message } });
    throw new WorkflowNotStarted(kind, THROTTLED.test(`${name} ${message}`));
  }
}

/** The operation error to record when a workflow could not be started: plain words, never AWS's message. */
export function startFailure(error: unknown, kind: WorkflowKind): OperationError {
  return error instanceof WorkflowNotStarted ? error.failure : new WorkflowNotStarted(kind, false).failure;
}

/** Stops an execution; one that already ended (or never started) is fine. */
export async function stopWorkflow(kind: WorkflowKind, executionName: string, cause: string): Promise<void> {
  try {
    await sfnClient().send(
      new StopExecutionCommand({ executionArn: executionArnFor(kind, executionName), error: 'Superseded', cause }),
    );
  } catch (error) {
    if ((error as Error).name !== 'ExecutionDoesNotExist') throw error;
  }
}

/**
 * The status of an execution (RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE),
 * or `MISSING` when Step Functions does not know it (ExecutionDoesNotExist: never started, or
 * past its retention; AWS Step Functions API Reference, DescribeExecution).
 */
export async function executionStatus(kind: WorkflowKind, executionName: string): Promise<string> {
  try {
    const described = await sfnClient().send(new DescribeExecutionCommand({ executionArn: executionArnFor(kind, executionName) }));
    return String(described.status ?? 'UNKNOWN');
  } catch (error) {
    if ((error as Error).name === 'ExecutionDoesNotExist') return 'MISSING';
    throw error;
  }
}

/**
 * Starts and stops the Step Functions workflows. Execution names are deterministic
 * (`<name>--<operationId>`), so a retried start of the same operation cannot run it twice:
 * Step Functions answers a repeated StartExecution with the same name and input with the
 * execution it already has.
 */
import { StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { sfnClient } from './clients/sfn.ts';

export type WorkflowKind = 'create' | 'update' | 'teardown' | 'scale' | 'heal';

const ARN_VARIABLES: Record<WorkflowKind, string> = {
  create: 'FLEDGE_CREATE_STATE_MACHINE_ARN',
  update: 'FLEDGE_UPDATE_STATE_MACHINE_ARN',
  teardown: 'FLEDGE_TEARDOWN_STATE_MACHINE_ARN',
  scale: 'FLEDGE_SCALE_STATE_MACHINE_ARN',
  heal: 'FLEDGE_HEAL_STATE_MACHINE_ARN',
};

export function stateMachineArn(kind: WorkflowKind): string {
  const arn = process.env[ARN_VARIABLES[kind]];
  if (!arn) throw new Error(`${ARN_VARIABLES[kind]} is not set`);
  return arn;
}

export function executionArnFor(kind: WorkflowKind, executionName: string): string {
  return `${stateMachineArn(kind).replace(':stateMachine:', ':execution:')}:${executionName}`;
}

export async function startWorkflow(kind: WorkflowKind, executionName: string, input: unknown): Promise<string> {
  const result = await sfnClient().send(
    new StartExecutionCommand({ stateMachineArn: stateMachineArn(kind), name: executionName, input: JSON.stringify(input) }),
  );
  return result.executionArn as string;
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

/**
 * Starting an operation, the one way every command does it: write the record with its new
 * RUNNING operation (conditionally, with its events), then start the operation's workflow.
 * If Step Functions refuses the start, nothing runs: the record is put back as the command
 * says (a create or update FAILED, a scale or heal where it was) with the operation FAILED
 * and an `operation-failed` event, and the refusal is rethrown (a 5xx to the caller: a 503 with
 * `Retry-After` when Step Functions throttled the start, AWS_LIMIT, so the caller retries then).
 */
import { replaceEnvironment } from '#adapters/environment-store.ts';
import { startFailure, startWorkflow, type WorkflowKind } from '#adapters/workflow-starter.ts';
import { executionNameFor, newOperationId, type EnvironmentRecord, type Operation, type OperationType } from '#domain/environment.ts';
import { environmentEvent } from '#domain/events.ts';
import { AwsThrottled } from '#domain/errors.ts';
import { emitMetric } from '#runtime/metric-emitter.ts';
import type { Caller } from './environment-commands.ts';

export function newOperation(type: OperationType, workflow: WorkflowKind, name: string, version: number, now: string): Operation {
  const id = newOperationId(version);
  return { id, type, status: 'RUNNING', startedAt: now, executionName: executionNameFor(name, id), workflow };
}

export interface Launch {
  /** the record to write, carrying its new operation (`newOperation`) */
  record: EnvironmentRecord;
  /** writes it, conditional on the version the command read, with its events; answers the stored record when that differs */
  write: (record: EnvironmentRecord) => Promise<EnvironmentRecord | void>;
  /** what the stored record goes back to when the start is refused (its operation is then marked FAILED) */
  undo: (stored: EnvironmentRecord) => EnvironmentRecord;
  /** added to the operation-failed event's message ("could not start the scale workflow; <note>") */
  undoNote?: string;
  /** workflow input beyond the operation's own (a heal's trigger) */
  input?: Record<string, unknown>;
}

export async function launch(plan: Launch, caller: Caller): Promise<EnvironmentRecord> {
  const record = (await plan.write(plan.record)) ?? plan.record;
  const operation = record.operation!;
  const workflow = operation.workflow!;
  const input = { name: record.name, operationId: operation.id, specVersion: record.specVersion, spec: record.spec, actor: caller.actor, ...plan.input };
  try {
    await startWorkflow(workflow, operation.executionName!, input);
    emitMetric('WorkflowStarted', 1, { workflow });
    return record;
  } catch (error) {
    const now = new Date().toISOString();
    const failure = startFailure(error, workflow);
    const undone: EnvironmentRecord = {
      ...plan.undo(record),
      version: record.version + 1,
      updatedAt: now,
      operation: { ...operation, status: 'FAILED', finishedAt: now, error: failure },
    };
    const message = `could not start the ${workflow} workflow${plan.undoNote ? `; ${plan.undoNote}` : ''}`;
    await replaceEnvironment(undone, record.version, [environmentEvent({ type: 'operation-failed', message: message, actor: caller.actor, operationId: operation.id })])
      .catch(() => undefined);
    throw failure.code === 'AWS_LIMIT' ? new AwsThrottled() : error;
  }
}

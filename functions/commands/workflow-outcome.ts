/**
 * How an operation ended, as metrics for the operator's dashboard: a success, or a failure
 * counted as the user's (their image, app or spec) or the control plane's (Fledge, AWS) by its
 * typed code (functions/domain/failure-side.ts). Only control-plane failures page
 * (infra/aws/observability.ts). Called once per operation, by the step that recorded its end.
 */
import type { OperationError } from '#domain/environment.ts';
import { failureSide } from '#domain/failure-side.ts';
import type { WorkflowKind } from '#domain/workflow-state.ts';
import { emitMetric } from '#runtime/metric-emitter.ts';

export function recordSucceeded(workflow: WorkflowKind): void {
  emitMetric('WorkflowSucceeded', 1, { workflow });
}

export function recordFailed(workflow: WorkflowKind, error: Pick<OperationError, 'code'>): void {
  const metric = failureSide(error.code) === 'user' ? 'UserFailures' : 'ControlPlaneFailures';
  emitMetric(metric, 1, { workflow, code: error.code });
}

/** A heal that gave up: the environment is DEGRADED, and the failure counted by whose it is. */
export function recordDegraded(error: Pick<OperationError, 'code'>): void {
  emitMetric('Degraded', 1);
  recordFailed('heal', error);
}

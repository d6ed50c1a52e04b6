/**
 * FailOperation (every workflow, after compensation): says why the operation failed in the
 * error-code vocabulary of the README (from the service's stopped tasks, then the error the workflow caught),
 * gives back a create's listener priority and records FAILED with the error and an event
 * naming what compensation removed. If the desired spec moved meanwhile, the workflow is
 * handed the newest spec instead (the latest accepted spec wins, README "Using the API").
 * A failed teardown leaves the environment DELETING, so a repeated DELETE can retry it.
 */
import { logger } from '#runtime/powertools.ts';
import { runtimeConfig } from '#runtime/config.ts';
import type { OperationError } from '#domain/environment.ts';
import { previousHealthCheckFor } from '#domain/resource-plan.ts';
import { publicErrorName } from '#domain/public-text.ts';
import { classifyFailure, type StoppedTask } from '#domain/task-failure.ts';
import { forNextPass, type TaskPayload, type WorkflowState } from '#domain/workflow-state.ts';
import type { EnvironmentEvent } from '#adapters/event-log.ts';
import { deployPlan } from '#adapters/deploy-plan.ts';
import { healthCheckNow } from '#commands/health-check-now.ts';
import { stoppedTasks } from '#adapters/fargate-resources.ts';
import { failOperation, getEnvironmentItem, recordOperationEvents } from '#adapters/operation-store.ts';
import { taskHandler } from '#lambda/task-handler.ts';

/**
 * The compensation steps' Catch results (ResultPath) by the resource they failed to remove.
 * The task definition is not among them: it is shared (docs/design.md "Shared task
 * definitions"), compensation keeps it, and the event names it under `kept`.
 */
const UNDO_ERRORS = {
  scalableTargetUndoError: 'scalableTarget',
  serviceUndoError: 'service',
  ruleUndoError: 'rule',
  targetGroupUndoError: 'targetGroup',
} as const;

async function handle(payload: TaskPayload): Promise<WorkflowState> {
  const { workflow, state } = payload;
  if (payload.fallback) return fallback(payload);
  const config = runtimeConfig();
  const item = await getEnvironmentItem(state.name);
  if (!item || item.operation?.id !== state.operationId || item.operation.status !== 'RUNNING') {
    logger.warn('operation is no longer current; nothing to record', { error: state.error?.Error });
    return { ...state, converge: false, outcome: 'superseded' };
  }
  let tasks: StoppedTask[] = [];
  if (workflow !== 'teardown') {
    try {
      tasks = await stoppedTasks(config.clusterArn, state.name, state.taskDefinition?.arn);
    } catch (error) {
      logger.warn('could not read the stopped tasks', { error: (error as Error).message });
    }
  }
  const error = classifyFailure(state.error, tasks);
  const now = new Date().toISOString();
  const { removed, leftOver } = compensation(state, workflow);
  const event = (type: string, message: string, details?: Record<string, unknown>): EnvironmentEvent => ({
    at: now, type, message, operationId: state.operationId, actor: state.actor, ...(details ? { details } : {}),
  });
  const failedEvent = event('failed', `${workflow} failed: ${error.code}: ${error.message}`, {
    error, workflowError: state.error?.Error ?? null, specVersion: state.specVersion,
    ...(workflow === 'create' ? { removed, leftOver, ...(state.taskDefinition?.arn ? { kept: [state.taskDefinition.arn] } : {}) } : {}),
  });
  // the caught error's Cause (AWS's own text) goes to the log only; the record and event carry the code and plain words
  logger.warn('operation failed', { code: error.code, workflowError: state.error?.Error, cause: state.error?.Cause });

  if (workflow !== 'teardown' && item.specVersion > state.specVersion) {
    const events = [
      failedEvent,
      event('converging', `converging to the desired spec version ${item.specVersion} (${item.spec.image})`, {
        from: state.specVersion, to: item.specVersion,
      }),
    ];
    if (!(await recordOperationEvents(state.name, state.operationId, now, events))) {
      return { ...state, converge: false, outcome: 'superseded' };
    }
    const plan = await deployPlan(state.name, item.spec, config, state.operationId, item.specVersion);
    const next: WorkflowState = {
      ...forNextPass(state),
      spec: item.spec,
      specVersion: item.specVersion,
      plan,
      // an update goes round again from RegisterTaskDefinition: what ModifyTargetGroup will replace (the failed pass may have changed it)
      ...(workflow === 'update' ? previousHealthCheckFor(await healthCheckNow(state.name, config), plan) : {}),
      converge: true,
    };
    if (workflow === 'create') {
      // compensation removed everything: the create starts over (PlanResources reuses the priority)
      for (const key of ['taskDefinition', 'targetGroup', 'rule', 'service', 'scalableTarget', ...Object.keys(UNDO_ERRORS)]) delete next[key];
    }
    return next;
  }

  const recorded = await failOperation({
    name: state.name,
    operationId: state.operationId,
    status: workflow === 'teardown' ? 'DELETING' : 'FAILED',
    error,
    releasePriority: workflow === 'create' && leftOver.length === 0 ? item.listenerPriority : undefined,
    now,
    events: [failedEvent],
  });
  return { ...state, converge: false, outcome: recorded ? 'failed' : 'superseded', failure: error satisfies OperationError };
}

/** What the compensation states removed, and what they could not (their Catch recorded an error). */
function compensation(state: WorkflowState, workflow: string): { removed: string[]; leftOver: { arn: string; error: string }[] } {
  const removed: string[] = [];
  const leftOver: { arn: string; error: string }[] = [];
  if (workflow !== 'create') return { removed, leftOver };
  for (const [errorKey, refKey] of Object.entries(UNDO_ERRORS)) {
    const arn = (state[refKey] as { arn?: string } | undefined)?.arn;
    if (typeof arn !== 'string') continue;
    const undoError = state[errorKey] as { Error?: string } | undefined;
    if (undoError) leftOver.push({ arn, error: undoError.Error ?? 'unknown' });
    else removed.push(arn);
  }
  return { removed, leftOver };
}

/**
 * The fallback after FailOperation itself failed (the ASL's FailOperationFallback): FAILED
 * (a teardown: DELETING) with the error caught and why recording it failed, and nothing else
 * — no stopped tasks, no convergence, no priority given back (a PUT retries the create with
 * it; the cleanup removes what is left) — so the operation ends now, not at the hourly sweep.
 */
async function fallback({ workflow, state }: TaskPayload): Promise<WorkflowState> {
  const item = await getEnvironmentItem(state.name);
  if (!item || item.operation?.id !== state.operationId || item.operation.status !== 'RUNNING') {
    return { ...state, converge: false, outcome: 'superseded' };
  }
  const now = new Date().toISOString();
  const error: OperationError = {
    code: 'INTERNAL',
    // the caught Cause is AWS's text: it goes to the log, the record names the errors only (docs/security.md)
    message: `${workflow} failed (${publicErrorName(state.error?.Error) ?? 'unknown error'}); recording the failure failed too (${publicErrorName(state.terminalError?.Error) ?? 'unknown error'})`,
  };
  logger.error('FailOperation failed; recording the failure with the fallback', { error, workflowError: state.error, terminalError: state.terminalError });
  const recorded = await failOperation({
    name: state.name, operationId: state.operationId, status: workflow === 'teardown' ? 'DELETING' : 'FAILED', error, now,
    events: [{
      at: now, type: 'failed', message: `${workflow} failed: ${error.code}: ${error.message}`, operationId: state.operationId, actor: state.actor,
      details: { error, workflowError: state.error?.Error ?? null, terminalError: state.terminalError?.Error ?? null, specVersion: state.specVersion, fallback: true },
    }],
  });
  return { ...state, converge: false, outcome: recorded ? 'failed' : 'superseded', failure: error };
}

export const handler = taskHandler(handle);

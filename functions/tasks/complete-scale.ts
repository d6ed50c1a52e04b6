/**
 * CompleteScale (scale): the end of a pass of the scale workflow — steady, rolled back (a
 * deployment the pass made), or failed (`$.error`, after the Catch of any step).
 *
 * If the desired spec moved meanwhile (a PUT/PATCH accepted while the scale ran), the pass is
 * recorded and the workflow goes round again with the newest spec. Otherwise the operation
 * ends: SLEEPING at 0 tasks, RUNNING otherwise. A scale never leaves an environment FAILED:
 * after a failure it is recorded as it really is (the service's count: RUNNING, or SLEEPING
 * at 0) with the operation FAILED and the reason, so alarms and heal can take it from there.
 * Every outcome is an event with the actor of the request (a user, `schedule`, `request`).
 */
import { logger } from '#runtime/powertools.ts';
import { environmentUrl, runtimeConfig } from '#runtime/config.ts';
import type { OperationError } from '#domain/environment.ts';
import { healthCheckRestored, healthCheckRollbackDetails, specHealthCheck, targetGroupHealthCheck } from '#domain/resource-plan.ts';
import type { ScalePlan } from '#domain/scale-plan.ts';
import { publicErrorName } from '#domain/public-text.ts';
import { classifyFailure, type StoppedTask } from '#domain/task-failure.ts';
import { forNextPass, type TaskPayload, type WorkflowState } from '#domain/workflow-state.ts';
import type { EnvironmentEvent } from '#adapters/event-log.ts';
import { describeService, stoppedTasks, taskDefinitionImage, type ServiceState } from '#adapters/fargate-resources.ts';
import { completeOperation, failOperation, getEnvironmentItem, recordConvergence, recordOperationEvents } from '#adapters/operation-store.ts';
import { taskHandler } from '#lambda/task-handler.ts';

const plural = (n: number) => `${n} task${n === 1 ? '' : 's'}`;

async function handle(payload: TaskPayload): Promise<WorkflowState> {
  const { state } = payload;
  if (payload.fallback) return fallback(state);
  // a lost race with a PUT (the desired spec moved between our read and our write) goes round again
  for (let attempt = 0; attempt < 5; attempt++) {
    const result = await finish(state);
    if (result) return result;
  }
  throw new Error(`could not record the end of operation ${state.operationId}: the environment kept changing`);
}

async function finish(state: WorkflowState): Promise<WorkflowState | undefined> {
  const config = runtimeConfig();
  const item = await getEnvironmentItem(state.name);
  if (!item || item.operation?.id !== state.operationId || item.operation.status !== 'RUNNING') {
    logger.warn('operation is no longer current; nothing to record', { error: state.error?.Error });
    return { ...state, converge: false, outcome: 'superseded' };
  }
  const scaling = state.scaling as ScalePlan | undefined;
  const failed = state.error !== undefined;
  const rolledBack = !failed && state.rollback !== undefined;
  const now = new Date().toISOString();
  const url = environmentUrl(state.name, config);
  const event = (type: string, message: string, details?: Record<string, unknown>): EnvironmentEvent => ({
    at: now, type, message, operationId: state.operationId, actor: state.actor, ...(details ? { details } : {}),
  });

  let service: ServiceState | undefined;
  let error: OperationError | undefined;
  let restored: string | undefined;
  // a rolled-back deployment of a pass whose ApplyHealthCheck changed the health check: RestoreHealthCheck put the previous one back
  const restoredHealthCheck = rolledBack ? state.previousHealthCheck : undefined;
  const failedHealthCheck = targetGroupHealthCheck(state.plan?.targetGroup);
  const events: EnvironmentEvent[] = [];
  if (failed || rolledBack) {
    service = await describeService(config.clusterArn, state.name).catch(() => undefined);
    // only tasks of the revision this pass ran that stopped during this operation say why it failed
    const since = Date.parse(item.operation.startedAt);
    let tasks: StoppedTask[] = [];
    try {
      tasks = (await stoppedTasks(config.clusterArn, state.name, state.taskDefinition?.arn || undefined)).filter(
        (task) => task.stoppedAt === undefined || new Date(task.stoppedAt).getTime() >= since,
      );
    } catch (failure) {
      logger.warn('could not read the stopped tasks', { error: (failure as Error).message });
    }
    error = classifyFailure(failed ? state.error : state.rollback, tasks);
    if (rolledBack) {
      error = { ...error, image: state.plan?.image ?? state.spec.image };
      // the service runs the previous revision again: the record says its image (what the environment converges to)
      restored = await taskDefinitionImage(service?.taskDefinitionArn).catch(() => undefined) ?? item.lastHealthyImage;
    }
    events.push(
      failed
        ? event('failed', `scale failed: ${error.code}: ${error.message}`, { error, workflowError: state.error?.Error ?? null, specVersion: state.specVersion })
        : event('rolled-back', `deployment of ${state.plan?.image ?? state.spec.image} failed (${error.code}: ${error.message}); the service was rolled back to ${restored ?? 'the previous deployment'}${healthCheckRestored(failedHealthCheck, restoredHealthCheck)}`, {
            error, image: state.plan?.image ?? null, failedImage: state.plan?.image ?? state.spec.image, restoredImage: restored ?? null,
            ...healthCheckRollbackDetails(failedHealthCheck, restoredHealthCheck),
          }),
    );
  }

  if (item.specVersion > state.specVersion) {
    const skipped: EnvironmentEvent[] = [];
    for (let v = state.specVersion + 1; v < item.specVersion; v++) {
      skipped.push(event('spec-skipped', `spec version ${v} was skipped: a newer spec (version ${item.specVersion}) arrived first`, { specVersion: v }));
    }
    const done = failed || rolledBack;
    if (!done) events.push(event('steady', `spec version ${state.specVersion} reached steady state (${plural(state.steadyState?.runningCount ?? state.spec.desiredCount)})`, { specVersion: state.specVersion }));
    events.push(...skipped, event('converging', `converging to the desired spec version ${item.specVersion} (${plural(item.spec.desiredCount)}, ${item.spec.image})`, {
      from: state.specVersion, to: item.specVersion,
    }));
    const recorded = done
      ? await recordOperationEvents(state.name, state.operationId, now, events)
      : await recordConvergence({
          name: state.name, operationId: state.operationId, specVersion: state.specVersion,
          runningCount: state.steadyState?.runningCount ?? state.spec.desiredCount, now, events,
        });
    if (!recorded) return undefined;
    logger.info('desired spec moved; converging', { from: state.specVersion, to: item.specVersion });
    return { ...forNextPass(state), spec: item.spec, specVersion: item.specVersion, converge: true };
  }

  const desiredCount = failed ? (service?.desiredCount ?? scaling?.fromCount ?? state.spec.desiredCount) : state.spec.desiredCount;
  const status = desiredCount === 0 ? 'SLEEPING' : 'RUNNING';
  const runningCount = failed || rolledBack ? (service?.runningCount ?? 0) : (state.steadyState?.runningCount ?? desiredCount);
  const deployed = !failed && !rolledBack && scaling?.deploy === true;
  if (!failed && !rolledBack) events.push(outcomeEvent(state, scaling, runningCount, url, item.operation.startedAt, now, event));
  const done = await completeOperation({
    name: state.name,
    operationId: state.operationId,
    specVersion: state.specVersion,
    status,
    url,
    runningCount,
    healthyImage: deployed && desiredCount > 0 ? (state.plan?.image ?? state.spec.image) : undefined,
    previousHealthyImages: item.healthyImages,
    error,
    restoredImage: rolledBack && restored && restored !== (state.plan?.image ?? state.spec.image) ? restored : undefined,
    restoredHealthCheck: restoredHealthCheck ? specHealthCheck(restoredHealthCheck) : undefined,
    now,
    events,
  });
  if (!done) return undefined;
  logger.info('scale complete', { status, runningCount, failed, rolledBack });
  return { ...state, converge: false, outcome: failed ? 'failed' : rolledBack ? 'rolled-back' : 'succeeded' };
}

function outcomeEvent(
  state: WorkflowState,
  scaling: ScalePlan | undefined,
  runningCount: number,
  url: string,
  startedAt: string,
  now: string,
  event: (type: string, message: string, details?: Record<string, unknown>) => EnvironmentEvent,
): EnvironmentEvent {
  const from = scaling?.fromCount ?? 0;
  const to = state.spec.desiredCount;
  const tookMs = Date.parse(now) - Date.parse(startedAt);
  const autoscaling = state.spec.autoscaling;
  const details = {
    from, to, runningCount, specVersion: state.specVersion, tookMs,
    autoscaling: autoscaling ?? null,
    rule: to === 0 ? 'waker' : 'service',
    ...(scaling?.deploy ? { image: state.plan?.image ?? state.spec.image } : {}),
  };
  const deployed = scaling?.deploy ? `; ${state.plan?.image ?? state.spec.image} deployed` : '';
  if (to === 0) {
    return event(scaling?.deploy ? 'updated' : from > 0 ? 'slept' : 'scaled',
      `${from > 0 ? `asleep (was ${plural(from)})` : 'still asleep'}: requests to ${url} wake it${deployed}`, details);
  }
  const scalingText = autoscaling ? `, autoscaling ${autoscaling.minCount}-${autoscaling.maxCount} tasks at ${autoscaling.targetCpuPercent}% CPU` : '';
  if (from === 0) {
    return event(scaling?.deploy ? 'updated' : 'woken',
      `awake: ${plural(runningCount)} running at ${url}, ${(tookMs / 1000).toFixed(1)} s after the wake began${scalingText}${deployed}`, details);
  }
  return event(scaling?.deploy ? 'updated' : 'scaled', `scaled ${from} -> ${plural(to)} (${runningCount} running)${scalingText}${deployed}`, details);
}

/**
 * The fallback after FailScale itself failed (the ASL's FailScaleFallback): the environment
 * as it is (SLEEPING when the service is at 0 — or, unreadable, the spec says 0 — RUNNING
 * otherwise) with the operation FAILED, and nothing else, so the operation ends now rather
 * than at the hourly stuck-operation sweep.
 */
async function fallback(state: WorkflowState): Promise<WorkflowState> {
  const item = await getEnvironmentItem(state.name);
  if (!item || item.operation?.id !== state.operationId || item.operation.status !== 'RUNNING') {
    return { ...state, converge: false, outcome: 'superseded' };
  }
  const service = await describeService(runtimeConfig().clusterArn, state.name).catch(() => undefined);
  const count = service?.desiredCount ?? item.spec.desiredCount;
  const now = new Date().toISOString();
  const error: OperationError = {
    code: 'INTERNAL',
    message: `scale failed (${publicErrorName(state.error?.Error) ?? 'unknown error'}); recording the failure failed too (${publicErrorName(state.terminalError?.Error) ?? 'unknown error'})`,
  };
  logger.error('FailScale failed; recording the failure with the fallback', { error, workflowError: state.error, terminalError: state.terminalError });
  const recorded = await failOperation({
    name: state.name, operationId: state.operationId, status: count === 0 ? 'SLEEPING' : 'RUNNING', error, now,
    events: [{
      at: now, type: 'failed', message: `scale failed: ${error.code}: ${error.message}`, operationId: state.operationId, actor: state.actor,
      details: { error, workflowError: state.error?.Error ?? null, terminalError: state.terminalError?.Error ?? null, specVersion: state.specVersion, fallback: true },
    }],
  });
  return { ...state, converge: false, outcome: recorded ? 'failed' : 'superseded' };
}

export const handler = taskHandler(handle);

/**
 * CompleteOperation (create, update): the deployment is steady (or the circuit breaker rolled
 * it back). If the desired spec moved meanwhile, record the versions skipped and hand the
 * workflow the newest spec to converge to; otherwise end the operation: RUNNING (SLEEPING at
 * 0 tasks) with its url, or — after a rollback — RUNNING on the previous image (and, when
 * the pass changed it, the previous health check RestoreHealthCheck put back) with the
 * operation FAILED and a `rolled-back` event; the spec says both again.
 */
import { logger } from '#runtime/powertools.ts';
import { environmentUrl, runtimeConfig } from '#runtime/config.ts';
import type { OperationError } from '#domain/environment.ts';
import { healthCheckRestored, healthCheckRollbackDetails, previousHealthCheckFor, specHealthCheck, targetGroupHealthCheck } from '#domain/resource-plan.ts';
import { classifyFailure } from '#domain/task-failure.ts';
import { forNextPass, type TaskPayload, type WorkflowState } from '#domain/workflow-state.ts';
import { deployPlan } from '#adapters/deploy-plan.ts';
import type { EnvironmentEvent } from '#adapters/event-log.ts';
import { describeService, stoppedTasks, taskDefinitionImage } from '#adapters/fargate-resources.ts';
import { completeOperation, getEnvironmentItem, recordConvergence, type EnvironmentItem } from '#adapters/operation-store.ts';
import { taskHandler } from '#lambda/task-handler.ts';

async function handle(payload: TaskPayload): Promise<WorkflowState> {
  const { state } = payload;
  // a lost race with a PUT (the desired spec moved between our read and our write) goes round again
  for (let attempt = 0; attempt < 5; attempt++) {
    const result = await complete(payload);
    if (result) return result;
  }
  throw new Error(`could not record the end of operation ${state.operationId}: the environment kept changing`);
}

async function complete({ workflow, state }: TaskPayload): Promise<WorkflowState | undefined> {
  const config = runtimeConfig();
  const item = await getEnvironmentItem(state.name);
  if (!item || item.operation?.id !== state.operationId || item.operation.status !== 'RUNNING') {
    logger.warn('operation is no longer current; nothing to record');
    return { ...state, converge: false, outcome: 'superseded' };
  }
  const now = new Date().toISOString();
  const rolledBack = state.rollback !== undefined;
  const image = state.plan?.image ?? state.spec.image;
  const error = rolledBack ? { ...(await rollbackError(state)), image } : undefined;
  const healthyImage = !rolledBack && state.spec.desiredCount > 0 ? image : undefined;
  const service = rolledBack ? await describeService(config.clusterArn, state.name) : undefined;
  const runningCount = rolledBack ? (service?.runningCount ?? 0) : (state.steadyState?.runningCount ?? state.spec.desiredCount);
  // after a rollback the service runs the previous revision again: the record says its image (what the environment converges to)
  const restored = rolledBack ? await restoredImage(service?.taskDefinitionArn, item.lastHealthyImage) : undefined;
  const restoredImageToRecord = restored && restored !== image ? restored : undefined;
  // RestoreHealthCheck put the target group's previous health check back (the pass had changed it)
  const failedHealthCheck = targetGroupHealthCheck(state.plan?.targetGroup);
  const restoredHealthCheck = rolledBack ? state.previousHealthCheck : undefined;
  const events: EnvironmentEvent[] = [];
  const event = (type: string, message: string, details?: Record<string, unknown>): EnvironmentEvent => ({
    at: now, type, message, operationId: state.operationId, actor: state.actor, ...(details ? { details } : {}),
  });
  if (rolledBack) {
    events.push(
      event('rolled-back', `deployment of ${image} failed (${error!.code}: ${error!.message}); the service was rolled back to ${restored ? `the previous image ${restored}` : previousImage(item)}${healthCheckRestored(failedHealthCheck, restoredHealthCheck)}`, {
        error, image, failedImage: image, restoredImage: restored ?? item.lastHealthyImage ?? null,
        ...healthCheckRollbackDetails(failedHealthCheck, restoredHealthCheck),
      }),
    );
  }

  if (item.specVersion > state.specVersion) {
    const skipped: EnvironmentEvent[] = [];
    for (let v = state.specVersion + 1; v < item.specVersion; v++) {
      skipped.push(event('spec-skipped', `spec version ${v} was skipped: a newer spec (version ${item.specVersion}) arrived first`, { specVersion: v }));
    }
    events.push(
      ...(rolledBack ? [] : [event('steady', `spec version ${state.specVersion} (${image}) reached steady state`, { specVersion: state.specVersion })]),
      ...skipped,
      event('converging', `converging to the desired spec version ${item.specVersion} (${item.spec.image})`, {
        from: state.specVersion, to: item.specVersion,
      }),
    );
    const recorded = await recordConvergence({
      name: state.name, operationId: state.operationId, specVersion: state.specVersion, runningCount, healthyImage,
      previousHealthyImages: item.healthyImages, now, events,
    });
    if (!recorded) return undefined;
    logger.info('desired spec moved; converging', { from: state.specVersion, to: item.specVersion });
    const plan = await deployPlan(state.name, item.spec, config, state.operationId, item.specVersion);
    return {
      ...forNextPass(state),
      spec: item.spec,
      specVersion: item.specVersion,
      plan,
      // what the target group has now: this pass's health check, or the one RestoreHealthCheck put back
      ...previousHealthCheckFor(restoredHealthCheck ?? failedHealthCheck, plan),
      phase: 'update',
      converge: true,
    };
  }

  const status = state.spec.desiredCount === 0 && !rolledBack ? 'SLEEPING' : 'RUNNING';
  if (!rolledBack) {
    events.push(
      event(
        status === 'SLEEPING' ? 'sleeping' : workflow === 'create' ? 'created' : 'updated',
        status === 'SLEEPING'
          ? `spec version ${state.specVersion} applied with 0 tasks: the environment sleeps`
          : `${image} is running (${runningCount} task${runningCount === 1 ? '' : 's'}) at ${environmentUrl(state.name, config)}`,
        { specVersion: state.specVersion, resources: createdResources(state) },
      ),
    );
  }
  const done = await completeOperation({
    name: state.name, operationId: state.operationId, specVersion: state.specVersion, status,
    url: environmentUrl(state.name, config), runningCount, healthyImage, previousHealthyImages: item.healthyImages,
    error, restoredImage: restoredImageToRecord, restoredHealthCheck: restoredHealthCheck ? specHealthCheck(restoredHealthCheck) : undefined, now, events,
  });
  if (!done) return undefined;
  logger.info('operation complete', { status, rolledBack });
  return { ...state, converge: false, outcome: rolledBack ? 'rolled-back' : 'succeeded' };
}

/** The image the service runs after the circuit breaker rolled it back (its PRIMARY revision's), or the last healthy one. */
async function restoredImage(taskDefinitionArn: string | undefined, lastHealthyImage: string | undefined): Promise<string | undefined> {
  try {
    return (await taskDefinitionImage(taskDefinitionArn)) ?? lastHealthyImage;
  } catch (error) {
    logger.warn('could not read the image the service was rolled back to', { error: (error as Error).message });
    return lastHealthyImage;
  }
}

async function rollbackError(state: WorkflowState): Promise<OperationError> {
  let tasks: Awaited<ReturnType<typeof stoppedTasks>> = [];
  try {
    tasks = await stoppedTasks(runtimeConfig().clusterArn, state.name, state.taskDefinition?.arn);
  } catch (error) {
    logger.warn('could not read the stopped tasks', { error: (error as Error).message });
  }
  return classifyFailure(state.rollback, tasks);
}

function previousImage(item: EnvironmentItem): string {
  return item.lastHealthyImage ? `the previous image ${item.lastHealthyImage}` : 'the previous deployment';
}

function createdResources(state: WorkflowState): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of ['taskDefinition', 'targetGroup', 'rule', 'service'] as const) {
    const arn = state[key]?.arn;
    if (arn) out[`${key}Arn`] = arn;
  }
  return out;
}

export const handler = taskHandler(handle);

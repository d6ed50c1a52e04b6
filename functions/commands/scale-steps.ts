/**
 * The steps of the scale workflow (statemachines/scale.asl.json) that need logic:
 *
 * - PlanScale reads what exists — the service (its count and task definition), the
 *   environment's target group and listener rule — and renders the inputs of the scale
 *   workflow's AWS steps from the desired spec: the count, the autoscaling target and policy
 *   (or their removal), whether the rule must move (to the waker while the environment sleeps,
 *   back to the service when it wakes), and whether the spec also needs a new task definition
 *   revision (a PUT/PATCH that reached a sleeping environment, or a spec that moved while the
 *   scale ran: the scale workflow deploys it too).
 * - CompleteScale ends a pass — steady, rolled back (a deployment the pass made), or failed
 *   (`$.error`, after the Catch of any step). If the desired spec moved meanwhile (a PUT/PATCH
 *   accepted while the scale ran), the pass is recorded and the workflow goes round again with
 *   the newest spec. Otherwise the operation ends: SLEEPING at 0 tasks, RUNNING otherwise. A
 *   scale never leaves an environment FAILED: after a failure it is recorded as it really is
 *   (the service's count: RUNNING, or SLEEPING at 0) with the operation FAILED and the reason,
 *   so alarms and heal can take it from there. Every outcome is an event with the actor of the
 *   request (a user, `schedule`, `request`).
 */
import { logger } from '#runtime/powertools.ts';
import { clusterName, environmentUrl, runtimeConfig } from '#runtime/config.ts';
import { transitionalTasksAlarm } from '#domain/alarms.ts';
import type { OperationError } from '#domain/environment.ts';
import { environmentEvent, stepEvents, type EnvironmentEvent, type StepEvent } from '#domain/events.ts';
import {
  healthCheckRestored, healthCheckRollbackDetails, previousHealthCheckFor, renderPlan, specHealthCheck, targetGroupHealthCheck,
} from '#domain/resource-plan.ts';
import { autoscalingPlan, needsNewRevision, type ScalePlan } from '#domain/scale-plan.ts';
import { forNextPass, type WorkflowState } from '#domain/workflow-state.ts';
import { appendEvents } from '#adapters/event-log.ts';
import { describeService, targetGroupOf, type ServiceState } from '#adapters/fargate-resources.ts';
import { completeOperation, getEnvironmentItem, recordConvergence, recordOperationEvents } from '#adapters/operation-store.ts';
import { findListenerRule } from '#adapters/scaling-resources.ts';
import { registeredTaskDefinition } from './deploy-steps.ts';
import {
  convergingEvent, currentOperation, failureOf, imageAfterRollback, newerSpec, recordFallbackFailure, skippedSpecEvents, untilRecorded,
} from './operation-end.ts';
import { recordScope } from './shard-scope.ts';
import { recordFailed, recordSucceeded } from './workflow-outcome.ts';

const plural = (n: number) => `${n} task${n === 1 ? '' : 's'}`;

// ---- PlanScale -------------------------------------------------------------------------------

function missing(name: string, message: string): Error {
  return Object.assign(new Error(message), { name });
}

export async function planScale(state: WorkflowState): Promise<WorkflowState> {
  const config = runtimeConfig();
  // the environment's load balancer: its rule and target group are there, and its waker (`$.shard`)
  const scope = recordScope((await getEnvironmentItem(state.name)) ?? {}, config);
  const plan = renderPlan(state.name, state.spec, scope, state.operationId, state.specVersion);

  const [service, targetGroup, rule] = await Promise.all([
    describeService(config.clusterArn, state.name),
    targetGroupOf(state.name, scope),
    findListenerRule(scope.listenerArn, plan.hostHeaders[0]!),
  ]);
  const targetGroupArn = targetGroup?.TargetGroupArn;
  if (!service) throw missing('ServiceNotFound', `the ECS service "${state.name}" does not exist: a heal or a PUT re-creates it`);
  if (!targetGroupArn) throw missing('TargetGroupNotFound', `the target group "${state.name}" does not exist: a heal or a PUT re-creates it`);
  const deploy = needsNewRevision(plan, service.taskDefinitionArn);
  // the spec's (shared, content-addressed) family may be registered already: then no RegisterTaskDefinition
  const registered = deploy ? await registeredTaskDefinition(plan.taskDefinition.Family, plan.image) : undefined;

  const desiredCount = state.spec.desiredCount;
  const scaling: ScalePlan = {
    desiredCount,
    fromCount: service.desiredCount,
    sleeping: desiredCount === 0,
    resourceId: `service/${clusterName(config.clusterArn)}/${state.name}`,
    deploy,
    register: deploy && !registered,
    ...(rule ? { ruleArn: rule.ruleArn, ruleAtService: rule.targetGroupArns.length === 1 && rule.targetGroupArns[0] === targetGroupArn } : { ruleAtService: false }),
    ...(state.spec.autoscaling && desiredCount > 0 ? { autoscaling: autoscalingPlan(state.name, state.spec.autoscaling) } : {}),
    tasksAlarm: transitionalTasksAlarm(state.name, state.spec, service.desiredCount, scope),
  };

  const what = scaling.sleeping
    ? `going to sleep: ${service.desiredCount} -> 0 tasks, requests to its URL wake it`
    : service.desiredCount === 0
      ? `waking up: 0 -> ${desiredCount} task${desiredCount === 1 ? '' : 's'}`
      : `scaling ${service.desiredCount} -> ${desiredCount} task${desiredCount === 1 ? '' : 's'}`;
  await appendEvents(state.name, [
    environmentEvent({
      state,
      type: 'scaling',
      message: `${what}${deploy ? `, deploying ${plan.image}` : ''}${rule ? '' : ' (no listener rule found: the URL is not routed until a heal re-creates it)'}`,
      details: { from: service.desiredCount, to: desiredCount, deploy, specVersion: state.specVersion, autoscaling: scaling.autoscaling ?? null },
    }),
  ]);
  logger.info('planned scale', { from: service.desiredCount, to: desiredCount, deploy, rule: Boolean(rule) });
  return {
    ...forNextPass(state),
    shard: scope.shard,
    plan,
    // a deployment (rolled back by the circuit breaker) or only more or fewer tasks (fail fast when they cannot start)
    phase: deploy ? 'update' : 'scale',
    targetGroup: { arn: targetGroupArn },
    // the health check ApplyHealthCheck is about to replace: a deployment rolled back puts it back (RestoreHealthCheck)
    ...previousHealthCheckFor(targetGroupHealthCheck(targetGroup), plan),
    // the revision to run: the service's own, the spec's registered one, or (RegisterTaskDefinition) a new one
    taskDefinition: { arn: registered ?? service.taskDefinitionArn ?? '' },
    // what a failed afterUpdate hook rolls the service back to: the revision serving before this operation (as the update keeps it)
    ...(deploy && plan.hooks?.afterUpdate && !state.previousTaskDefinition && service.taskDefinitionArn ? { previousTaskDefinition: { arn: service.taskDefinitionArn } } : {}),
    scaling,
  };
}

// ---- CompleteScale ---------------------------------------------------------------------------

export function completeScale(state: WorkflowState): Promise<WorkflowState> {
  return untilRecorded(`operation ${state.operationId}`, () => finish(state));
}

async function finish(state: WorkflowState): Promise<WorkflowState | undefined> {
  const config = runtimeConfig();
  const item = await currentOperation(state, { error: state.error?.Error });
  if (!item) return { ...state, converge: false, outcome: 'superseded' };
  const scaling = state.scaling as ScalePlan | undefined;
  const failed = state.error !== undefined;
  const rolledBack = !failed && state.rollback !== undefined;
  const now = new Date().toISOString();
  const url = environmentUrl(state.name, config);
  const event = stepEvents(state, now);

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
    error = await failureOf(state.name, failed ? state.error : state.rollback, {
      taskDefinitionArn: state.taskDefinition?.arn || undefined, since: Date.parse(item.operation.startedAt),
    });
    if (rolledBack) {
      error = { ...error, image: state.plan?.image ?? state.spec.image };
      // the service runs the previous revision again: the record says its image (what the environment converges to)
      restored = await imageAfterRollback(service?.taskDefinitionArn, item.lastHealthyImage);
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

  const newer = newerSpec(item, state);
  if (newer) {
    const done = failed || rolledBack;
    if (!done) events.push(event('steady', `spec version ${state.specVersion} reached steady state (${plural(state.steadyState?.runningCount ?? state.spec.desiredCount)})`, { specVersion: state.specVersion }));
    events.push(
      ...skippedSpecEvents(event, state.specVersion, newer),
      convergingEvent(event, state.specVersion, newer, `${plural(newer.spec.desiredCount)}, ${newer.spec.image}`),
    );
    const recorded = done
      ? await recordOperationEvents(state.name, state.operationId, now, events)
      : await recordConvergence({
          name: state.name, operationId: state.operationId, specVersion: state.specVersion,
          runningCount: state.steadyState?.runningCount ?? state.spec.desiredCount, now, events,
        });
    if (!recorded) return undefined;
    logger.info('desired spec moved; converging', { from: state.specVersion, to: newer.specVersion });
    return { ...forNextPass(state), ...newer, converge: true };
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
  if (error) recordFailed('scale', error);
  else recordSucceeded('scale');
  return { ...state, converge: false, outcome: failed ? 'failed' : rolledBack ? 'rolled-back' : 'succeeded' };
}

function outcomeEvent(
  state: WorkflowState,
  scaling: ScalePlan | undefined,
  runningCount: number,
  url: string,
  startedAt: string,
  now: string,
  event: StepEvent,
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
 * The fallback after CompleteScaleAfterFailure itself failed (the ASL's CompleteScaleFallback): the environment
 * as it is (SLEEPING when the service is at 0 — or, unreadable, the spec says 0 — RUNNING
 * otherwise) with the operation FAILED, and nothing else, so the operation ends now rather
 * than at the hourly stuck-operation sweep.
 */
export async function completeScaleFallback(state: WorkflowState): Promise<WorkflowState> {
  const item = await currentOperation(state);
  if (!item) return { ...state, converge: false, outcome: 'superseded' };
  const service = await describeService(runtimeConfig().clusterArn, state.name).catch(() => undefined);
  const count = service?.desiredCount ?? item.spec.desiredCount;
  const { recorded, error } = await recordFallbackFailure(state, 'scale', 'CompleteScaleAfterFailure', count === 0 ? 'SLEEPING' : 'RUNNING');
  if (recorded) recordFailed('scale', error);
  return { ...state, converge: false, outcome: recorded ? 'failed' : 'superseded' };
}

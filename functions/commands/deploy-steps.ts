/**
 * The steps of the create and update workflows (statemachines/create.asl.json,
 * update.asl.json) that need logic, and FailOperation, which ends every workflow that failed:
 *
 * - PlanResources puts the environment's shard in the state (`$.shard`: the load balancer whose
 *   listener and waker the steps use) and renders the request inputs of the workflow's AWS steps
 *   from the spec. A create takes a slot on the open shard with the most room
 *   (adapters/shard-slots.ts; every open shard full: QUOTA_EXCEEDED, before any AWS change), then
 *   the environment's listener-rule priority, and looks for the
 *   (content-addressed, shared) task definition: when its family already has an ACTIVE
 *   revision, `taskDefinition` is set and the create skips RegisterTaskDefinition
 *   (docs/design.md "Shared task definitions"). A create first waits out a service of the same
 *   name that is still DRAINING (a FAILED create retried at once: its compensation deleted the
 *   service moments ago). ECS refuses CreateService for a draining name ("Unable to Start a
 *   service that is still Draining"; Amazon ECS API reference, CreateService/DeleteService):
 *   ServiceStillDraining is retried by the state, bounded, before anything is allocated.
 * - AwaitSteadyState waits until the ECS service is steady with this operation's deployment
 *   (below).
 * - CompleteOperation: the deployment is steady (or the circuit breaker rolled it back). If the
 *   desired spec moved meanwhile, record the versions skipped and hand the workflow the newest
 *   spec to converge to; otherwise end the operation: RUNNING (SLEEPING at 0 tasks) with its
 *   url, or — after a rollback — RUNNING on the previous image (and, when the pass changed it,
 *   the previous health check RestoreHealthCheck put back) with the operation FAILED and a
 *   `rolled-back` event; the spec says both again.
 * - FailOperation (every workflow, after compensation): says why the operation failed in the
 *   error-code vocabulary of the README (from the service's stopped tasks, then the error the
 *   workflow caught), gives back a create's listener priority and records FAILED with the error
 *   and an event naming what compensation removed. If the desired spec moved meanwhile, the
 *   workflow is handed the newest spec instead (the latest accepted spec wins, README "Using
 *   the API"). A failed teardown leaves the environment DELETING, so a repeated DELETE can retry it.
 */
import { logger } from '#runtime/powertools.ts';
import { environmentUrl, runtimeConfig, shardOf } from '#runtime/config.ts';
import type { OperationError } from '#domain/environment.ts';
import { environmentEvent, stepEvents, type EnvironmentEvent } from '#domain/events.ts';
import {
  healthCheckRestored, healthCheckRollbackDetails, previousHealthCheckFor, renderPlan, specHealthCheck, targetGroupHealthCheck,
} from '#domain/resource-plan.ts';
import { judgeService, ServiceStillDraining, type WaitPhase } from '#domain/steady-state.ts';
import { classifyFailure } from '#domain/task-failure.ts';
import { forNextPass, type WorkflowKind, type WorkflowState } from '#domain/workflow-state.ts';
import { deployPlan } from '#adapters/deploy-plan.ts';
import { appendEvents } from '#adapters/event-log.ts';
import { activeTaskDefinition, describeService, targetGroupOf } from '#adapters/fargate-resources.ts';
import { recordFamilyUse } from '#adapters/task-definition-use.ts';
import * as store from '#adapters/operation-store.ts';
import { claimShardSlot, slotHeld } from '#adapters/shard-slots.ts';
import { answerWait, sendTaskFailure } from '#adapters/task-tokens.ts';
import { claimDnsName, environmentDns } from './environment-dns.ts';
import { healthCheckNow } from './health-check-now.ts';
import {
  convergingEvent, currentOperation, failureOf, imageAfterRollback, newerSpec, planOf, recordFallbackFailure, skippedSpecEvents,
  untilRecorded, type CurrentItem,
} from './operation-end.ts';
import { shardScope, stateScope } from './shard-scope.ts';
import { recordFailed, recordSucceeded } from './workflow-outcome.ts';

// ---- PlanResources ---------------------------------------------------------------------------

/**
 * The family's latest ACTIVE revision, or undefined. Only an optimisation: when the lookup is
 * throttled the step registers, and a throttled registration looks again (FindTaskDefinition;
 * the scale's RegisterTaskDefinition retries for minutes). The pick is recorded first, so the
 * cleanup does not deregister the revision before the service runs it (docs/design.md "Shared task definitions").
 */
export async function registeredTaskDefinition(family: string, image: string): Promise<string | undefined> {
  await recordFamilyUse(family);
  try {
    return await activeTaskDefinition(family, image);
  } catch (error) {
    if ((error as Error).name !== 'ThrottlingException') throw error;
    logger.info('task definition lookup throttled; the workflow registers', { family });
    return undefined;
  }
}

export async function planResources(workflow: WorkflowKind, state: WorkflowState): Promise<WorkflowState> {
  const config = runtimeConfig();
  if (workflow === 'create') {
    const existing = await describeService(config.clusterArn, state.name);
    if (existing?.status === 'DRAINING') {
      logger.info('a service of this name is still draining; waiting before the create');
      throw new ServiceStillDraining(`an earlier ECS service "${state.name}" is still draining`);
    }
  }
  // before anything is made: a create whose name is used in the operator's zone by a record Fledge
  // does not manage fails now (DnsNameInUse), and never writes over it (docs/security.md "Names in a shared hosted zone")
  const dnsChange = workflow === 'create' ? await claimDnsName(environmentDns(state, config).dns, config.shards) : undefined;
  // before any AWS change: a create takes a slot on a load balancer of the pool (or fails with
  // QUOTA_EXCEEDED when all are full); every other workflow works on the environment's own
  const shard = workflow === 'create'
    ? await claimShardSlot(state.name, state.operationId, config.shards)
    : shardOf((await store.getEnvironmentItem(state.name)) ?? {}, config);
  const scope = shardScope(shard, config);
  // an update keeps an autoscaled count where autoscaling put it (adapters/deploy-plan.ts)
  const plan = workflow === 'create'
    ? renderPlan(state.name, state.spec, scope, state.operationId, state.specVersion)
    : await deployPlan(state.name, state.spec, scope, state.operationId, state.specVersion);
  const next: WorkflowState = { ...forNextPass(state), shard, plan, phase: workflow === 'create' ? 'create' : 'update' };
  // a create planned again (a failed pass's compensation removed everything) seeds its new environment again
  if (workflow === 'create') delete next.hooksRun;
  if (workflow === 'create') {
    // reuses the priority the environment already holds (a retried step or a retried create)
    next.listenerPriority = await store.allocateListenerPriority(state.name, state.operationId);
  } else {
    // the update registers a revision of this family and deploys it: a use, like a create's pick
    await recordFamilyUse(plan.taskDefinition.Family);
    // an update points the service's load balancer at the same target group (the port may change)
    const targetGroup = await targetGroupOf(state.name, scope);
    const targetGroupArn = targetGroup?.TargetGroupArn;
    if (!targetGroupArn) {
      throw Object.assign(new Error(`the target group "${plan.targetGroup.Name}" does not exist: the environment must be re-created`), {
        name: 'TargetGroupNotFound',
      });
    }
    next.targetGroup = { arn: targetGroupArn };
    if (plan.hooks?.afterUpdate && !state.previousTaskDefinition) {
      // what a failed afterUpdate hook rolls the service back to (the revision serving before this update)
      const serving = (await describeService(config.clusterArn, state.name))?.taskDefinitionArn;
      if (serving) next.previousTaskDefinition = { arn: serving };
    }
    // the health check ModifyTargetGroup is about to replace: a rollback puts it back (RestoreHealthCheck)
    Object.assign(next, previousHealthCheckFor(targetGroupHealthCheck(targetGroup), plan));
  }
  await appendEvents(state.name, [
    environmentEvent({
      state,
      type: workflow === 'create' ? 'provisioning' : 'deploying',
      message: `${workflow === 'create' ? 'creating resources for' : 'deploying'} image ${plan.image} (spec version ${state.specVersion})`,
      details: { shard: shard.id, ...(next.listenerPriority !== undefined ? { listenerPriority: next.listenerPriority } : {}) },
    }),
  ]);
  // the environment's alias record (CreateDnsRecord), only with per-environment DNS: CREATE, or UPSERT over its own record
  delete next.dns;
  delete next.dnsChange;
  Object.assign(next, environmentDns(next, config));
  if (next.dns && dnsChange) next.dnsChange = dnsChange;
  if (workflow === 'create') {
    // last, as close to RegisterTaskDefinition as it gets: a burst of creates of one content then finds the first one's revision
    const registered = await registeredTaskDefinition(plan.taskDefinition.Family, plan.image);
    if (registered) next.taskDefinition = { arn: registered };
    else delete next.taskDefinition;
  }
  logger.info('planned resources', {
    workflow, specVersion: state.specVersion, shard: shard.id, listenerPriority: next.listenerPriority,
    taskDefinitionFamily: plan.taskDefinition.Family, taskDefinitionRegistered: next.taskDefinition?.arn ?? null,
  });
  return next;
}

// ---- AwaitSteadyState ------------------------------------------------------------------------

export interface SteadyStateWait {
  taskToken: string;
  name: string;
  operationId: string;
  /** create: nothing to roll back to; update: the circuit breaker rolls back to the previous deployment; scale: only the count changes */
  phase: WaitPhase;
  taskDefinitionArn?: string;
  /** the count the wait is for (a lagging read of the previous count is not success); ignored with autoscaling, which moves it */
  desiredCount?: number;
  /** the deployment a heal's CreateService or UpdateService started, which is the one to wait for */
  deploymentId?: string;
  /** which pass of the workflow this is (heal): a new pass is a new wait */
  pass?: number;
}

export type AwaitOutcome = 'waiting' | 'steady' | 'failed' | 'superseded';

/**
 * AwaitSteadyState (`lambda:invoke.waitForTaskToken`) completes two ways, whichever comes
 * first, both judged by functions/domain/steady-state.ts:
 * - **the event**: it stores the step's task token on the environment, where
 *   functions/events/ecs-service-events.ts finds it when ECS reports the deployment's outcome;
 * - **the poll**: every entry reads the service itself and answers at once when the service
 *   is steady, failed or rolled back. The state's TimeoutSeconds is the poll interval and its
 *   Retry on `States.Timeout` enters it again (bounded by MaxAttempts: the whole wait's
 *   backstop), so a lost or late event costs one interval, not the workflow.
 * The token is stored before the service is read, so an event arriving meanwhile is not lost.
 */
export async function awaitSteadyState(wait: SteadyStateWait): Promise<{ waiting: boolean; outcome: AwaitOutcome }> {
  const { taskToken, name, operationId, phase, taskDefinitionArn, deploymentId } = wait;
  const current = await store.getEnvironmentItem(name);
  // a deploy of an autoscaled environment keeps the count autoscaling chose, which may move
  // during the deployment (scale-out continues): only a scale (or a heal's restored count) waits for an exact one
  const desiredCount = current?.spec?.autoscaling && phase !== 'scale' ? undefined : wait.desiredCount;
  const { stored, startedAt } = await store.storeWaitToken(name, operationId, taskToken, phase, taskDefinitionArn, desiredCount, { deploymentId, pass: wait.pass, current });
  if (!stored) {
    await sendTaskFailure(taskToken, 'OperationSuperseded', `operation ${operationId} of "${name}" is no longer the current one`);
    return { waiting: false, outcome: 'superseded' };
  }
  const service = await describeService(runtimeConfig().clusterArn, name);
  const verdict = judgeService(service, { phase, taskDefinitionArn, desiredCount, startedAt, deploymentId }, Date.now());
  if (verdict.kind === 'waiting') {
    logger.info('waiting for the service to become steady', { phase, reason: verdict.reason, waitStartedAt: startedAt });
    return { waiting: true, outcome: 'waiting' };
  }
  logger.info(verdict.kind === 'steady' ? 'service steady' : 'the wait ends in a failure', {
    runningCount: service?.runningCount,
    ...(verdict.kind === 'failed' ? { error: verdict.error, cause: verdict.cause } : {}),
  });
  await answerWait(name, taskToken, verdict, service);
  return { waiting: false, outcome: verdict.kind };
}

// ---- CompleteOperation -----------------------------------------------------------------------

export function completeOperation(workflow: WorkflowKind, state: WorkflowState): Promise<WorkflowState> {
  return untilRecorded(`operation ${state.operationId}`, () => complete(workflow, state));
}

async function complete(workflow: WorkflowKind, state: WorkflowState): Promise<WorkflowState | undefined> {
  const config = runtimeConfig();
  const item = await currentOperation(state);
  if (!item) return { ...state, converge: false, outcome: 'superseded' };
  const now = new Date().toISOString();
  const event = stepEvents(state, now);
  const rolledBack = state.rollback !== undefined;
  const image = state.plan?.image ?? state.spec.image;
  const error = rolledBack ? { ...(await failureOf(state.name, state.rollback, { taskDefinitionArn: state.taskDefinition?.arn })), image } : undefined;
  const healthyImage = !rolledBack && state.spec.desiredCount > 0 ? image : undefined;
  const service = rolledBack ? await describeService(config.clusterArn, state.name) : undefined;
  const runningCount = rolledBack ? (service?.runningCount ?? 0) : (state.steadyState?.runningCount ?? state.spec.desiredCount);
  // after a rollback the service runs the previous revision again: the record says its image (what the environment converges to)
  const restored = rolledBack ? await imageAfterRollback(service?.taskDefinitionArn, item.lastHealthyImage) : undefined;
  const restoredImageToRecord = restored && restored !== image ? restored : undefined;
  // RestoreHealthCheck put the target group's previous health check back (the pass had changed it)
  const failedHealthCheck = targetGroupHealthCheck(state.plan?.targetGroup);
  const restoredHealthCheck = rolledBack ? state.previousHealthCheck : undefined;
  const events: EnvironmentEvent[] = [];
  if (rolledBack) {
    events.push(
      event('rolled-back', `deployment of ${image} failed (${error!.code}: ${error!.message}); the service was rolled back to ${restored ? `the previous image ${restored}` : previousImage(item)}${healthCheckRestored(failedHealthCheck, restoredHealthCheck)}`, {
        error, image, failedImage: image, restoredImage: restored ?? item.lastHealthyImage ?? null,
        ...healthCheckRollbackDetails(failedHealthCheck, restoredHealthCheck),
      }),
    );
  }

  const newer = newerSpec(item, state);
  if (newer) {
    events.push(
      ...(rolledBack ? [] : [event('steady', `spec version ${state.specVersion} (${image}) reached steady state`, { specVersion: state.specVersion })]),
      ...skippedSpecEvents(event, state.specVersion, newer),
      convergingEvent(event, state.specVersion, newer),
    );
    const recorded = await store.recordConvergence({
      name: state.name, operationId: state.operationId, specVersion: state.specVersion, runningCount, healthyImage,
      previousHealthyImages: item.healthyImages, now, events,
    });
    if (!recorded) return undefined;
    logger.info('desired spec moved; converging', { from: state.specVersion, to: newer.specVersion });
    const plan = await planOf(state, newer);
    return {
      ...forNextPass(state),
      ...newer,
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
  const done = await store.completeOperation({
    name: state.name, operationId: state.operationId, specVersion: state.specVersion, status,
    url: environmentUrl(state.name, config), runningCount, healthyImage, previousHealthyImages: item.healthyImages,
    error, restoredImage: restoredImageToRecord, restoredHealthCheck: restoredHealthCheck ? specHealthCheck(restoredHealthCheck) : undefined, now, events,
  });
  if (!done) return undefined;
  logger.info('operation complete', { status, rolledBack });
  if (error) recordFailed(workflow, error);
  else recordSucceeded(workflow);
  return { ...state, converge: false, outcome: rolledBack ? 'rolled-back' : 'succeeded' };
}

function previousImage(item: CurrentItem): string {
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

// ---- FailOperation ---------------------------------------------------------------------------

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

export async function failOperation(workflow: WorkflowKind, state: WorkflowState): Promise<WorkflowState> {
  const config = runtimeConfig();
  const item = await currentOperation(state, { error: state.error?.Error });
  if (!item) return { ...state, converge: false, outcome: 'superseded' };
  // a teardown has no deployment whose stopped tasks would say why: the caught error does
  const failure = workflow === 'teardown'
    ? classifyFailure(state.error, [])
    : await failureOf(state.name, state.error, { taskDefinitionArn: state.taskDefinition?.arn });
  const now = new Date().toISOString();
  const event = stepEvents(state, now);
  const { removed, leftOver } = compensation(state, workflow);
  const failedEvent = event('failed', `${workflow} failed: ${failure.code}: ${failure.message}`, {
    error: failure, workflowError: state.error?.Error ?? null, specVersion: state.specVersion,
    ...(workflow === 'create' ? { removed, leftOver, ...(state.taskDefinition?.arn ? { kept: [state.taskDefinition.arn] } : {}) } : {}),
  });
  // the caught error's Cause (AWS's own text) goes to the log only; the record and event carry the code and plain words
  logger.warn('operation failed', { code: failure.code, workflowError: state.error?.Error, cause: state.error?.Cause });

  const newer = workflow === 'teardown' ? undefined : newerSpec(item, state);
  if (newer) {
    if (!(await store.recordOperationEvents(state.name, state.operationId, now, [failedEvent, convergingEvent(event, state.specVersion, newer)]))) {
      return { ...state, converge: false, outcome: 'superseded' };
    }
    const plan = await planOf(state, newer);
    const next: WorkflowState = {
      ...forNextPass(state),
      ...newer,
      plan,
      // an update goes round again from RegisterTaskDefinition: what ModifyTargetGroup will replace (the failed pass may have changed it)
      ...(workflow === 'update' ? previousHealthCheckFor(await healthCheckNow(state.name, stateScope(state, config)), plan) : {}),
      converge: true,
    };
    if (workflow === 'create') {
      // compensation removed everything: the create starts over (PlanResources reuses the priority)
      for (const key of ['taskDefinition', 'targetGroup', 'rule', 'service', 'scalableTarget', ...Object.keys(UNDO_ERRORS)]) delete next[key];
    }
    return next;
  }

  const recorded = await store.failOperation({
    name: state.name,
    operationId: state.operationId,
    status: workflow === 'teardown' ? 'DELETING' : 'FAILED',
    error: failure,
    releasePriority: workflow === 'create' && leftOver.length === 0 ? item.listenerPriority : undefined,
    // the load balancer slot goes with the priority: nothing of the environment is left on its shard
    releaseShard: workflow === 'create' && leftOver.length === 0 ? slotHeld(item) : undefined,
    now,
    events: [failedEvent],
  });
  if (recorded) recordFailed(workflow, failure);
  return { ...state, converge: false, outcome: recorded ? 'failed' : 'superseded', failure: failure satisfies OperationError };
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
  // the alias record (per-environment DNS) is named by its DNS name: Route 53 records have no ARN
  const dnsName = state.dnsRecord ? (state.dns as { recordName?: string } | undefined)?.recordName : undefined;
  if (dnsName) {
    const undoError = state.dnsRecordUndoError as { Error?: string } | undefined;
    if (undoError) leftOver.push({ arn: dnsName, error: undoError.Error ?? 'unknown' });
    else removed.push(dnsName);
  }
  return { removed, leftOver };
}

/**
 * The fallback after FailOperation itself failed (the ASL's FailOperationFallback): FAILED
 * (a teardown: DELETING) with the error caught and why recording it failed, and nothing else
 * — no stopped tasks, no convergence, no priority given back (a PUT retries the create with
 * it; the cleanup removes what is left) — so the operation ends now, not at the hourly sweep.
 */
export async function failOperationFallback(workflow: WorkflowKind, state: WorkflowState): Promise<WorkflowState> {
  if (!(await currentOperation(state))) return { ...state, converge: false, outcome: 'superseded' };
  const { recorded, error } = await recordFallbackFailure(state, workflow, 'FailOperation', workflow === 'teardown' ? 'DELETING' : 'FAILED');
  if (recorded) recordFailed(workflow, error);
  return { ...state, converge: false, outcome: recorded ? 'failed' : 'superseded', failure: error };
}

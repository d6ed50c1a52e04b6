/**
 * InspectEnvironment (heal): one reconcile pass's "look". Describes what exists — service,
 * target group, listener rule, target health, alarms, failing tasks — compares it with the
 * desired spec recorded in DynamoDB (functions/domain/healing.ts planRepairs) and hands the
 * workflow the repairs to make, with the request inputs of its AWS steps. Decides the bound:
 * an environment still within the backoff after its last heal waits first; one with
 * something to repair and no attempt left in the hour goes DEGRADED. A repair pass is an
 * attempt, recorded (with what was found and what will be done) before anything changes.
 */
import { healPolicy, runtimeConfig } from '#runtime/config.ts';
import { logger } from '#runtime/powertools.ts';
import { renderAlarmPlan } from '#domain/alarms.ts';
import type { HealProgress, HealState } from '#domain/heal-state.ts';
import { forNextHealPass } from '#domain/heal-state.ts';
import { attemptsInWindow, planRepairs, remainingBackoff } from '#domain/healing.ts';
import { clientToken, renderPlan } from '#domain/resource-plan.ts';
import type { TaskPayload } from '#domain/workflow-state.ts';
import { inspectEnvironment } from '#adapters/environment-inspection.ts';
import { activeTaskDefinition } from '#adapters/fargate-resources.ts';
import { recordHealAttempt } from '#adapters/heal-store.ts';
import { getEnvironmentItem } from '#adapters/operation-store.ts';
import { taskHandler } from '#lambda/task-handler.ts';

/** Stopped tasks older than this are history, not evidence of a failing image. */
export const FAILURE_WINDOW_MS = 15 * 60_000;

async function handle(payload: TaskPayload): Promise<HealState> {
  const state = payload.state as HealState;
  const config = runtimeConfig();
  const policy = healPolicy();
  const item = await getEnvironmentItem(state.name);
  if (!item || item.operation?.id !== state.operationId || item.operation.status !== 'RUNNING') {
    logger.warn('heal is no longer the current operation; stopping');
    return { ...state, next: 'superseded' };
  }
  const now = Date.now();
  const progress: HealProgress = state.heal ?? { waitSeconds: 0, attempts: 0, passes: 0, repaired: false };

  // a heal that follows another one closely waits out the backoff before it looks
  if (progress.passes === 0) {
    const wait = remainingBackoff(item.healAttempts, now, policy);
    if (wait > 0) {
      logger.info('within the backoff after the last heal; waiting', { waitSeconds: wait });
      return { ...state, heal: { ...progress, waitSeconds: wait }, next: 'wait' };
    }
  }

  const alarms = renderAlarmPlan(state.name, state.spec, config);
  const { findings, ruleArn } = await inspectEnvironment({
    installationId: config.installationId,
    clusterArn: config.clusterArn,
    listenerArn: config.listenerArn,
    name: state.name,
    host: `${state.name}.${config.baseDomain}`,
    alarms,
    failureWindowMs: FAILURE_WINDOW_MS,
    now,
  });
  const repairs = planRepairs(findings, { spec: state.spec, lastHealthyImage: item.lastHealthyImage, healthyImages: item.healthyImages });
  const base = forNextHealPass(state);
  const passes = progress.passes + 1;
  logger.info('inspected', { findings, repairs: repairs.actions.map((a) => a.repair) });

  if (repairs.todo.waitForDrain) {
    return { ...base, found: findings, actions: repairs.actions, heal: { ...progress, passes, waitSeconds: drainSeconds(policy.backoffSeconds) }, next: 'drain' };
  }
  if (!repairs.mutates) {
    return { ...base, found: findings, actions: [], heal: { ...progress, passes }, next: 'healthy' };
  }
  const window = attemptsInWindow(item.healAttempts, now, policy.windowMs);
  if (window.length >= policy.maxPerHour) {
    logger.warn('something to repair, but no heal attempt left this hour', { attempts: window.length, max: policy.maxPerHour });
    return { ...base, found: findings, actions: repairs.actions, heal: { ...progress, passes, attempts: window.length }, next: 'degrade' };
  }

  const at = new Date(now).toISOString();
  const attempts = [...window, at];
  const summary = repairs.actions.map((a) => `${a.found}: ${a.action}`).join('; ');
  const recorded = await recordHealAttempt(state.name, state.operationId, attempts, at, [
    {
      at,
      type: 'heal-attempt',
      message: `heal attempt ${attempts.length} of ${policy.maxPerHour} this hour: ${summary}`,
      operationId: state.operationId,
      actor: state.actor,
      details: { attempt: attempts.length, maxPerHour: policy.maxPerHour, found: findings, actions: repairs.actions },
    },
  ]);
  if (!recorded) return { ...state, next: 'superseded' };

  const plan = renderPlan(state.name, { ...state.spec, image: repairs.image ?? state.spec.image }, config, state.operationId, state.specVersion);
  // a service recreated twice by one heal needs a new idempotency token each time
  plan.service.ClientToken = clientToken(state.name, state.operationId, state.specVersion, 'heal', attempts.length, passes);
  const service = findings.service;
  // task definitions are content-addressed and shared: an ACTIVE revision of the family is used as it is
  const registered = repairs.todo.taskDefinition ? await activeTaskDefinition(plan.taskDefinition.Family, plan.image) : undefined;
  const todo = registered ? { ...repairs.todo, taskDefinition: false } : repairs.todo;
  const taskDefinitionArn = registered ?? (service && !repairs.todo.taskDefinition ? service.taskDefinitionArn : undefined);
  return {
    ...base,
    plan,
    listenerPriority: item.listenerPriority,
    found: findings,
    todo,
    actions: repairs.actions,
    ...(repairs.image ? { image: repairs.image } : {}),
    ...(repairs.rollbackFrom ? { rollbackFrom: repairs.rollbackFrom } : {}),
    ...(findings.targetGroupArn ? { targetGroup: { arn: findings.targetGroupArn } } : {}),
    ...(ruleArn ? { rule: { arn: ruleArn } } : {}),
    ...(taskDefinitionArn ? { taskDefinition: { arn: taskDefinitionArn } } : {}),
    ...(service ? { service: { arn: service.arn } } : {}),
    heal: { ...progress, passes, attempts: attempts.length, repaired: true },
    next: 'repair',
  };
}

/** How long to wait for a deleted service to finish draining before looking again. */
export function drainSeconds(backoffSeconds: number): number {
  return Math.max(1, Math.min(5, Math.round(backoffSeconds / 6)));
}

export const handler = taskHandler(handle);

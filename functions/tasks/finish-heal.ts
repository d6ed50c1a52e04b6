/**
 * FinishHealPass (heal): the end of one reconcile pass. Records each repair as an event with
 * what was found and what was done, then:
 *  - nothing needed repair, or the repairs brought the service back to steady: RUNNING
 *    (a rollback or a recreated service updates the healthy-image history);
 *  - a repair failed or the service did not become steady: the attempt failed; wait the
 *    backoff (30 s, 60 s, 120 s...) and inspect again (InspectEnvironment decides DEGRADED
 *    when no attempt is left);
 *  - the desired spec moved while the heal ran (a PUT during HEALING): hand the workflow the
 *    newest spec to deploy (README "Using the API", latest wins).
 */
import { healPolicy, runtimeConfig } from '#runtime/config.ts';
import { logger } from '#runtime/powertools.ts';
import { renderAlarmPlan } from '#domain/alarms.ts';
import type { HealState } from '#domain/heal-state.ts';
import { forNextHealPass } from '#domain/heal-state.ts';
import { backoffAfter, healthyImagesAfterHeal } from '#domain/healing.ts';
import { previousHealthCheckFor } from '#domain/resource-plan.ts';
import { classifyFailure } from '#domain/task-failure.ts';
import type { TaskPayload } from '#domain/workflow-state.ts';
import { deployPlan } from '#adapters/deploy-plan.ts';
import type { EnvironmentEvent } from '#adapters/event-log.ts';
import { healthCheckNow } from '#commands/health-check-now.ts';
import { stoppedTasks } from '#adapters/fargate-resources.ts';
import { completeHeal } from '#adapters/heal-store.ts';
import { getEnvironmentItem, recordOperationEvents, type EnvironmentItem } from '#adapters/operation-store.ts';
import { taskHandler } from '#lambda/task-handler.ts';

async function handle(payload: TaskPayload): Promise<HealState> {
  const state = payload.state as HealState;
  // a lost race with a PUT (the desired spec moved between our read and our write) is decided again
  for (let attempt = 0; attempt < 5; attempt++) {
    const result = await finish(state);
    if (result) return result;
  }
  throw new Error(`could not record the end of heal ${state.operationId}: the environment kept changing`);
}

function current(item: EnvironmentItem | undefined, operationId: string): item is EnvironmentItem {
  return Boolean(item && item.operation?.id === operationId && item.operation.status === 'RUNNING');
}

async function finish(state: HealState): Promise<HealState | undefined> {
  const item = await getEnvironmentItem(state.name);
  if (!current(item, state.operationId)) {
    logger.warn('heal is no longer the current operation; nothing to record');
    return { ...state, next: 'superseded' };
  }
  const now = new Date().toISOString();
  const event = (type: string, message: string, details?: Record<string, unknown>): EnvironmentEvent => ({
    at: now, type, message, operationId: state.operationId, actor: state.actor, ...(details ? { details } : {}),
  });
  const progress = state.heal ?? { waitSeconds: 0, attempts: 0, passes: 1, repaired: false };
  const service = state.found?.service;
  const events: EnvironmentEvent[] = [];

  if (state.next === 'healthy') {
    events.push(
      progress.repaired
        ? event('healed', `the environment is healthy again after ${progress.attempts} heal attempt(s) this hour`, { found: state.found })
        : event('heal-checked', 'nothing to repair: service, target group, listener rule, alarms, desired count and task health match the spec; nothing was changed', { found: state.found }),
    );
    return end(state, item, events, service?.runningCount ?? state.spec.desiredCount, undefined);
  }

  const failure = state.repairError ?? state.verifyError;
  const ok = !failure && (!state.todo?.waitSteady || state.steadyState !== undefined);
  for (const action of state.actions ?? []) {
    events.push(
      event('heal-repair', `${action.found}: ${ok ? '' : 'tried to '}${action.action}${ok ? ' (done)' : ''}`, {
        repair: action.repair, found: action.found, action: action.action, done: ok,
        ...resourcesOf(state, action.repair),
      }),
    );
  }

  if (ok) {
    const running = state.image ?? service?.image;
    // a rollback (or a service recreated with the last healthy image) runs another image than the spec's: the spec says it again
    const restoredImage = state.image && state.image !== state.spec.image ? state.image : undefined;
    const images = running ? healthyImagesAfterHeal(item.healthyImages, running, state.rollbackFrom) : undefined;
    const runningCount = state.steadyState?.runningCount ?? service?.runningCount ?? state.spec.desiredCount;
    events.push(
      event(
        state.rollbackFrom ? 'rolled-back' : 'healed',
        state.rollbackFrom
          ? `healed by rolling back from ${state.rollbackFrom} to ${state.image}: ${runningCount} task(s) running`
          : `healed: ${runningCount} task(s) running${running ? ` on ${running}` : ''}`,
        { attempt: progress.attempts, ...(state.rollbackFrom ? { from: state.rollbackFrom, to: state.image } : {}) },
      ),
    );
    return end(state, item, events, runningCount, images && running ? { lastHealthyImage: images[0]!, healthyImages: images } : undefined, restoredImage);
  }

  let tasks: Awaited<ReturnType<typeof stoppedTasks>> = [];
  try {
    tasks = await stoppedTasks(runtimeConfig().clusterArn, state.name, (state.taskDefinition as { arn?: string } | undefined)?.arn);
  } catch (error) {
    logger.warn('could not read the stopped tasks', { error: (error as Error).message });
  }
  const error = classifyFailure(failure ?? { Error: 'NotSteady', Cause: 'the service did not become steady' }, tasks.slice(0, 10));
  const waitSeconds = backoffAfter(Math.max(1, progress.attempts), healPolicy());
  events.push(
    event('heal-attempt-failed', `heal attempt ${progress.attempts} did not bring the environment back (${error.code}: ${error.message}); looking again in ${waitSeconds} s`, {
      attempt: progress.attempts, error, workflowError: failure?.Error ?? null, waitSeconds,
    }),
  );
  if (item.specVersion > state.specVersion) return converge(state, item, events, now);
  if (!(await recordOperationEvents(state.name, state.operationId, now, events))) return { ...state, next: 'superseded' };
  logger.warn('heal attempt failed', { attempt: progress.attempts, code: error.code, waitSeconds });
  return { ...state, heal: { ...progress, waitSeconds, lastError: error }, next: 'retry' };
}

/** RUNNING, or — when the spec moved meanwhile — on to deploying the newest spec. */
async function end(
  state: HealState,
  item: EnvironmentItem,
  events: EnvironmentEvent[],
  runningCount: number,
  healthyImages: { lastHealthyImage: string; healthyImages: string[] } | undefined,
  restoredImage?: string,
): Promise<HealState | undefined> {
  const now = events[0]?.at ?? new Date().toISOString();
  if (item.specVersion > state.specVersion) return converge(state, item, events, now);
  const done = await completeHeal({
    name: state.name, operationId: state.operationId, specVersion: state.specVersion, runningCount, healthyImages, restoredImage, now, events,
  });
  if (!done) return undefined;
  logger.info('heal complete', { runningCount, repaired: state.heal?.repaired ?? false, restoredImage });
  const { alarmReset: _reset, ...rest } = forNextHealPass(state);
  return { ...rest, ...alarmReset(state), next: 'done' };
}

/**
 * The alarms to set back to OK when the heal ends (heal.asl.json Reset*Alarm): after a heal
 * that changed something, or one that was asked for (a DEGRADED environment coming back) and
 * found an alarm in ALARM. An
 * alarm still in ALARM from before the heal would never change state again, so a fault that
 * persists past the heal (or returns) would raise no new ALARM event and start no new heal;
 * set to OK, CloudWatch re-evaluates it at its next period ("the alarm will return to its
 * actual state on its next evaluation", SetAlarmState, Amazon CloudWatch API Reference). Not
 * after a triggered heal that found nothing: a fault the heal cannot see or repair (5xx
 * answers of the application itself) would otherwise start a heal at every period.
 */
function alarmReset(state: HealState): Pick<HealState, 'alarmReset'> {
  const manualWithAlarm = state.trigger?.source === 'api' && (state.found?.alarmsInAlarm?.length ?? 0) > 0;
  if (!state.heal?.repaired && !manualWithAlarm) return {};
  const plan = renderAlarmPlan(state.name, state.spec, runtimeConfig());
  return {
    alarmReset: {
      tasks: plan.tasks.AlarmName, unhealthy: plan.unhealthy.AlarmName, errors: plan.errors.AlarmName,
      reason: `Fledge heal ${state.operationId} ended: re-evaluate from OK, so a fault that persists raises a new ALARM`,
    },
  };
}

async function converge(state: HealState, item: EnvironmentItem, events: EnvironmentEvent[], now: string): Promise<HealState | undefined> {
  const all = [
    ...events,
    {
      at: now, type: 'converging', operationId: state.operationId, actor: state.actor,
      message: `a new spec arrived during the heal: converging to the desired spec version ${item.specVersion} (${item.spec.image})`,
      details: { from: state.specVersion, to: item.specVersion },
    },
  ];
  if (!(await recordOperationEvents(state.name, state.operationId, now, all))) return { ...state, next: 'superseded' };
  const targetGroup = (state.targetGroup as { arn?: string } | undefined)?.arn ?? state.found?.targetGroupArn ?? undefined;
  const plan = await deployPlan(state.name, item.spec, runtimeConfig(), state.operationId, item.specVersion);
  return {
    ...forNextHealPass(state),
    ...alarmReset({ ...state, spec: item.spec }),
    spec: item.spec,
    specVersion: item.specVersion,
    plan,
    // what ModifyConvergedTargetGroup will replace: a rolled-back convergence puts it back (RestoreHealthCheck)
    ...previousHealthCheckFor(await healthCheckNow(state.name, runtimeConfig()), plan),
    phase: 'update',
    ...(targetGroup ? { targetGroup: { arn: targetGroup } } : {}),
    next: 'converge',
  };
}

/** ARNs the repair touched, for the event. */
function resourcesOf(state: HealState, repair: string): Record<string, unknown> {
  const arn = (key: string) => (state[key] as { arn?: string } | undefined)?.arn ?? ((state.done?.[key] as { arn?: string } | undefined)?.arn);
  switch (repair) {
    case 'recreate-target-group':
    case 'update-health-check':
      return { targetGroupArn: arn('targetGroup') ?? null };
    case 'recreate-listener-rule':
      return { ruleArn: arn('rule') ?? null };
    case 'recreate-service':
    case 'roll-back':
    case 'redeploy-spec-image':
      return { serviceArn: arn('service') ?? null, taskDefinitionArn: arn('taskDefinition') ?? null, image: state.image ?? null };
    case 'restore-desired-count':
    case 'force-new-deployment':
    case 'attach-target-group':
      return { serviceArn: arn('service') ?? state.found?.service?.arn ?? null };
    default:
      return {};
  }
}

export const handler = taskHandler(handle);

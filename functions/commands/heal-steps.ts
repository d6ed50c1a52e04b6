/**
 * The steps of the heal workflow (statemachines/heal.asl.json) that need logic, and the
 * cleanup's HealMissedAlarms, which starts the heals an alarm should have started:
 *
 * - InspectEnvironment: one reconcile pass's "look". Describes what exists — service, target
 *   group, listener rule, target health, alarms, failing tasks — compares it with the desired
 *   spec recorded in DynamoDB (functions/domain/healing.ts planRepairs) and hands the workflow
 *   the repairs to make, with the request inputs of its AWS steps. Decides the bound: an
 *   environment still within the backoff after its last heal waits first; one with something
 *   to repair and no attempt left in the hour goes DEGRADED. A repair pass is an attempt,
 *   recorded (with what was found and what will be done) before anything changes.
 * - FinishHeal: the end of one reconcile pass. Records each repair as an event with what
 *   was found and what was done, then:
 *    - nothing needed repair, or the repairs brought the service back to steady: RUNNING
 *      (a rollback or a recreated service updates the healthy-image history);
 *    - a repair failed or the service did not become steady: the attempt failed; wait the
 *      backoff (30 s, 60 s, 120 s...) and inspect again (InspectEnvironment decides DEGRADED
 *      when no attempt is left);
 *    - the desired spec moved while the heal ran (a PUT during HEALING): hand the workflow the
 *      newest spec to deploy (README "Using the API", latest wins).
 * - DegradeEnvironment: the environment could not be saved within the bound
 *   (FLEDGE_HEAL_MAX_PER_HOUR heals in the last hour), or a new spec could not be deployed
 *   during a heal. HEALING -> DEGRADED with the reason, and the notification the workflow
 *   publishes next (SNS). A DEGRADED environment starts no heal from alarms until an update, a
 *   manual heal or a scale (functions/domain/healing.ts).
 * - HealMissedAlarms (cleanup): an alarm fires once ("alarms invoke actions only when the alarm
 *   changes state", Amazon CloudWatch User Guide, "Using Amazon CloudWatch alarms"; EventBridge
 *   gets one "CloudWatch Alarm State Change" event per change). When its "Alarm State Change" event never
 *   started a heal (lost on the way: EventBridge delivery or the trigger's retries ran out, or it
 *   came while the environment was busy), the alarm stays in ALARM and nothing would ever heal
 *   the environment. Each cleanup run lists this installation's alarms in ALARM and starts a heal
 *   for each RUNNING environment whose alarm went off after its last operation ended (one that
 *   ended later, e.g. a heal that found nothing to repair, already answered it). The heal's own
 *   bound and backoff apply (functions/domain/healing.ts).
 */
import { healPolicy } from '#runtime/config.ts';
import { logger } from '#runtime/powertools.ts';
import { environmentUrl, installationId, runtimeConfig } from '#runtime/config.ts';
import { alarmNamePrefix, parseAlarmName, renderAlarmPlan } from '#domain/alarms.ts';
import type { OperationError } from '#domain/environment.ts';
import { environmentEvent, stepEvents, type EnvironmentEvent, type StepEvent } from '#domain/events.ts';
import { forNextHealPass, type HealProgress, type HealState } from '#domain/heal-state.ts';
import { attemptsInWindow, backoffAfter, healthyImagesAfterHeal, planRepairs, remainingBackoff } from '#domain/healing.ts';
import { publicErrorName } from '#domain/public-text.ts';
import { clientToken, previousHealthCheckFor, renderPlan } from '#domain/resource-plan.ts';
import { alarmsInAlarm } from '#adapters/alarm-states.ts';
import { getEnvironment } from '#adapters/environment-store.ts';
import { inspectEnvironment as inspect } from '#adapters/environment-inspection.ts';
import { activeTaskDefinition } from '#adapters/fargate-resources.ts';
import { recordFamilyUse } from '#adapters/task-definition-use.ts';
import { completeHeal, markDegraded, recordHealAttempt } from '#adapters/heal-store.ts';
import { recordOperationEvents } from '#adapters/operation-store.ts';
import { startTriggeredHeal } from './heal-commands.ts';
import { environmentDns, inspectDnsRecord } from './environment-dns.ts';
import { dnsNameInUseMessage } from '#domain/dns-records.ts';
import { healthCheckNow } from './health-check-now.ts';
import { recordScope, stateScope } from './shard-scope.ts';
import {
  convergingEvent, currentOperation, failureOf, newerSpec, planOf, untilRecorded, type CurrentItem, type NewerSpec,
} from './operation-end.ts';
import { recordDegraded, recordSucceeded } from './workflow-outcome.ts';

// ---- InspectEnvironment ----------------------------------------------------------------------

/** Stopped tasks older than this are history, not evidence of a failing image. */
export const FAILURE_WINDOW_MS = 15 * 60_000;

export async function inspectEnvironment(state: HealState): Promise<HealState> {
  const config = runtimeConfig();
  const policy = healPolicy();
  const item = await currentOperation(state);
  if (!item) return { ...state, next: 'superseded' };
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

  // the environment's load balancer: its rule is looked for on that listener, repaired there (`$.shard`)
  const scope = recordScope(item, config);
  const alarms = renderAlarmPlan(state.name, state.spec, scope);
  const { dns } = environmentDns({ ...state, shard: scope.shard }, config);
  const { findings: found, ruleArn } = await inspect({
    installationId: config.installationId,
    clusterArn: config.clusterArn,
    listenerArn: scope.listenerArn,
    name: state.name,
    host: `${state.name}.${config.baseDomain}`,
    alarms,
    failureWindowMs: FAILURE_WINDOW_MS,
    now,
  });
  const findings = { ...found, ...(await inspectDnsRecord(dns, config.shards)) };
  const repairs = planRepairs(findings, { spec: state.spec, lastHealthyImage: item.lastHealthyImage, healthyImages: item.healthyImages });
  const base: HealState = { ...forNextHealPass(state), shard: scope.shard };
  const passes = progress.passes + 1;
  logger.info('inspected', { findings, repairs: repairs.actions.map((a) => a.repair) });

  if (repairs.todo.waitForDrain) {
    return { ...base, found: findings, actions: repairs.actions, heal: { ...progress, passes, waitSeconds: drainSeconds(policy.backoffSeconds) }, next: 'drain' };
  }
  if (!repairs.mutates) {
    return { ...base, found: findings, actions: [], heal: { ...progress, passes }, ...(dns ? { dns } : {}), next: 'healthy' };
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
    environmentEvent({
      at,
      state,
      type: 'heal-attempt',
      message: `heal attempt ${attempts.length} of ${policy.maxPerHour} this hour: ${summary}`,
      details: { attempt: attempts.length, maxPerHour: policy.maxPerHour, found: findings, actions: repairs.actions },
    }),
  ]);
  if (!recorded) return { ...state, next: 'superseded' };

  const plan = renderPlan(state.name, { ...state.spec, image: repairs.image ?? state.spec.image }, scope, state.operationId, state.specVersion);
  // a service recreated twice by one heal needs a new idempotency token each time
  plan.service.ClientToken = clientToken(state.name, state.operationId, state.specVersion, 'heal', attempts.length, passes);
  const service = findings.service;
  // task definitions are content-addressed and shared: an ACTIVE revision of the family is used as it is
  // the pick is recorded first: the cleanup keeps a family picked within its grace (docs/design.md "Shared task definitions")
  if (repairs.todo.taskDefinition) await recordFamilyUse(plan.taskDefinition.Family);
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
    ...(dns ? { dns } : {}),
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

// ---- FinishHeal --------------------------------------------------------------------------

export function finishHealPass(state: HealState): Promise<HealState> {
  return untilRecorded(`heal ${state.operationId}`, () => finish(state));
}

async function finish(state: HealState): Promise<HealState | undefined> {
  const item = await currentOperation(state);
  if (!item) return { ...state, next: 'superseded' };
  const now = new Date().toISOString();
  const event = stepEvents(state, now);
  const progress = state.heal ?? { waitSeconds: 0, attempts: 0, passes: 1, repaired: false };
  const service = state.found?.service;
  const events: EnvironmentEvent[] = [];
  if (state.found?.dnsRecord === 'taken') {
    // never written over (docs/security.md "Names in a shared hosted zone"): said on every heal that finds it
    const recordName = (state.dns as { recordName?: string } | undefined)?.recordName;
    events.push(event('dns-name-in-use', `${dnsNameInUseMessage(recordName)}; the heal left it as it is, so the environment is not reachable at its name`, { dnsRecord: recordName ?? null }));
  }

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

  const error = await failureOf(state.name, failure ?? { Error: 'NotSteady', Cause: 'the service did not become steady' }, {
    taskDefinitionArn: (state.taskDefinition as { arn?: string } | undefined)?.arn, limit: 10,
  });
  const waitSeconds = backoffAfter(Math.max(1, progress.attempts), healPolicy());
  events.push(
    event('heal-attempt-failed', `heal attempt ${progress.attempts} did not bring the environment back (${error.code}: ${error.message}); looking again in ${waitSeconds} s`, {
      attempt: progress.attempts, error, workflowError: failure?.Error ?? null, waitSeconds,
    }),
  );
  const newer = newerSpec(item, state);
  if (newer) return converge(state, newer, event, events, now);
  if (!(await recordOperationEvents(state.name, state.operationId, now, events))) return { ...state, next: 'superseded' };
  logger.warn('heal attempt failed', { attempt: progress.attempts, code: error.code, waitSeconds });
  return { ...state, heal: { ...progress, waitSeconds, lastError: error }, next: 'retry' };
}

/** RUNNING, or — when the spec moved meanwhile — on to deploying the newest spec. */
async function end(
  state: HealState,
  item: CurrentItem,
  events: EnvironmentEvent[],
  runningCount: number,
  healthyImages: { lastHealthyImage: string; healthyImages: string[] } | undefined,
  restoredImage?: string,
): Promise<HealState | undefined> {
  const now = events[0]?.at ?? new Date().toISOString();
  const newer = newerSpec(item, state);
  if (newer) return converge(state, newer, stepEvents(state, now), events, now);
  const done = await completeHeal({
    name: state.name, operationId: state.operationId, specVersion: state.specVersion, runningCount, healthyImages, restoredImage, now, events,
  });
  if (!done) return undefined;
  logger.info('heal complete', { runningCount, repaired: state.heal?.repaired ?? false, restoredImage });
  recordSucceeded('heal');
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
  const plan = renderAlarmPlan(state.name, state.spec, stateScope(state));
  return {
    alarmReset: {
      tasks: plan.tasks.AlarmName, unhealthy: plan.unhealthy.AlarmName, errors: plan.errors.AlarmName,
      reason: `Fledge heal ${state.operationId} ended: re-evaluate from OK, so a fault that persists raises a new ALARM`,
    },
  };
}

async function converge(state: HealState, newer: NewerSpec, event: StepEvent, events: EnvironmentEvent[], now: string): Promise<HealState | undefined> {
  const all = [...events, convergingEvent(event, state.specVersion, newer, newer.spec.image, 'a new spec arrived during the heal')];
  if (!(await recordOperationEvents(state.name, state.operationId, now, all))) return { ...state, next: 'superseded' };
  const targetGroup = (state.targetGroup as { arn?: string } | undefined)?.arn ?? state.found?.targetGroupArn ?? undefined;
  const plan = await planOf(state, newer);
  return {
    ...forNextHealPass(state),
    ...alarmReset({ ...state, spec: newer.spec }),
    ...newer,
    plan,
    // what ModifyConvergedTargetGroup will replace: a rolled-back convergence puts it back (RestoreHealthCheck)
    ...previousHealthCheckFor(await healthCheckNow(state.name, stateScope(state)), plan),
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
    case 'recreate-dns-record':
      return { dnsRecord: (state.dns as { recordName?: string } | undefined)?.recordName ?? null };
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

// ---- DegradeEnvironment ----------------------------------------------------------------------

/** The notification's subject: SNS takes fewer than 100 characters (Publish, Amazon SNS API Reference). */
const degradedSubject = (name: string) => `Fledge: environment ${name} is DEGRADED`.slice(0, 99);

export async function degradeEnvironment(state: HealState): Promise<HealState> {
  if (!(await currentOperation(state))) return { ...state, next: 'superseded' };
  const config = runtimeConfig();
  const policy = healPolicy();
  const attempts = state.heal?.attempts ?? 0;
  const convergeFailed = state.error !== undefined;
  let error: OperationError | undefined = convergeFailed ? undefined : state.heal?.lastError;
  if (!error) {
    error = await failureOf(state.name, state.error ?? { Error: 'HealBoundReached', Cause: 'the environment is still broken' }, { limit: 10 });
  }
  const broken = (state.actions ?? []).map((a) => a.found);
  const why = convergeFailed
    ? `the new spec (version ${state.specVersion}) could not be deployed during the heal`
    : `still broken after ${attempts} heal attempt(s) in the last hour (at most ${policy.maxPerHour})`;
  const now = new Date().toISOString();
  const message =
    `${why}${broken.length ? `: ${broken.join('; ')}` : ''} (${error.code}: ${error.message}). ` +
    'Alarms start no heal until an update, a manual heal or a scale; operators are notified.';
  const done = await markDegraded({
    name: state.name,
    operationId: state.operationId,
    error,
    now,
    events: [
      environmentEvent({
        at: now, state, type: 'degraded', message,
        details: { attempts, maxPerHour: policy.maxPerHour, error, found: state.found ?? null, actions: state.actions ?? [], notification: 'published to the environment notifications topic' },
      }),
    ],
  });
  if (!done) return { ...state, next: 'superseded' };
  logger.warn('environment degraded', { attempts, code: error.code });
  recordDegraded(error);
  return {
    ...state,
    notification: {
      Subject: degradedSubject(state.name),
      Message: JSON.stringify(
        {
          environment: state.name,
          status: 'DEGRADED',
          url: environmentUrl(state.name, config),
          operationId: state.operationId,
          reason: message,
          error,
          attempts,
          maxPerHour: policy.maxPerHour,
          found: state.found ?? null,
          next: 'fix the cause, then PUT the spec (or POST /v1/environments/{name}/heal) to try again',
          at: now,
        },
        null,
        2,
      ),
    },
    next: 'notify',
  };
}

/**
 * The fallback after DegradeEnvironment itself failed (the ASL's DegradeEnvironmentFallback): DEGRADED
 * with the error caught and why recording failed, nothing else, and a short notification;
 * the heal ends now rather than at the hourly stuck-operation sweep.
 */
export async function degradeEnvironmentFallback(state: HealState): Promise<HealState> {
  if (!(await currentOperation(state))) return { ...state, next: 'superseded' };
  const now = new Date().toISOString();
  const cause = state.error ?? (state.heal?.lastError ? { Error: state.heal.lastError.code, Cause: state.heal.lastError.message } : undefined);
  const error: OperationError = {
    code: 'INTERNAL',
    message: `the heal could not save the environment (${publicErrorName(cause?.Error) ?? 'heal bound reached'}); recording it failed too (${publicErrorName(state.terminalError?.Error) ?? 'unknown error'})`,
  };
  logger.error('DegradeEnvironment failed; recording DEGRADED with the fallback', { error, workflowError: state.error, terminalError: state.terminalError });
  const message = `${error.message}. Alarms start no heal until an update, a manual heal or a scale; operators are notified.`;
  const done = await markDegraded({
    name: state.name, operationId: state.operationId, error, now,
    events: [environmentEvent({ at: now, state, type: 'degraded', message, details: { error, fallback: true } })],
  });
  if (!done) return { ...state, next: 'superseded' };
  recordDegraded(error);
  return {
    ...state,
    notification: {
      Subject: degradedSubject(state.name),
      Message: JSON.stringify({ environment: state.name, status: 'DEGRADED', operationId: state.operationId, reason: message, error, at: now }, null, 2),
    },
    next: 'notify',
  };
}

// ---- HealMissedAlarms ------------------------------------------------------------------------

export interface MissedAlarmsReport {
  inAlarm: number;
  healsStarted: string[];
  skipped: { environment: string; reason: string }[];
}

export async function healMissedAlarms(): Promise<MissedAlarmsReport> {
  const id = installationId();
  const alarms = await alarmsInAlarm(alarmNamePrefix(id));
  const report: MissedAlarmsReport = { inAlarm: alarms.length, healsStarted: [], skipped: [] };
  const seen = new Set<string>();
  for (const alarm of alarms) {
    const parsed = parseAlarmName(alarm.name, id);
    if (!parsed || seen.has(parsed.environment)) continue;
    const current = await getEnvironment(parsed.environment);
    if (current?.status !== 'RUNNING') continue;
    const finished = current.operation?.finishedAt ? Date.parse(current.operation.finishedAt) : 0;
    if (finished >= Date.parse(alarm.since)) continue;
    seen.add(parsed.environment);
    const result = await startTriggeredHeal(
      parsed.environment,
      { source: 'alarm', signal: alarm.name, reason: `in ALARM since ${alarm.since} and no heal followed (found by the cleanup)` },
      healPolicy(),
    );
    if (result.started) report.healsStarted.push(parsed.environment);
    else report.skipped.push({ environment: parsed.environment, reason: result.reason });
  }
  logger.info('missed alarms', { ...report });
  return report;
}

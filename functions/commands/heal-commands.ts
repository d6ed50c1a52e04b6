/**
 * Starting a heal (`POST /v1/environments/{name}/heal`; README "Self-healing"): by hand through the
 * API, or by an alarm or ECS signal through functions/events/heal-trigger.ts. Like the other
 * commands (environment-commands.ts): decide from the current record, write conditionally on
 * its version (RUNNING|DEGRADED -> HEALING with a new operation), then start the workflow.
 */
import type { EnvironmentEvent } from '#adapters/event-log.ts';
import { getEnvironment, replaceEnvironment } from '#adapters/environment-store.ts';
import { startFailure, startWorkflow } from '#adapters/workflow-starter.ts';
import { checkIfMatch, visibleOrNotFound, type Caller, type CommandResult, type TenantCaller } from './environment-commands.ts';
import { executionNameFor, newOperationId, type EnvironmentRecord, type Operation } from '#domain/environment.ts';
import { Conflict, VersionConflict } from '#domain/errors.ts';
import { acceptsHeal, attemptsInWindow, countsFromLastHeal, decideTriggeredHeal, type HealPolicy, type HealTrigger } from '#domain/healing.ts';
import { hasOperationInFlight } from '#domain/lifecycle.ts';

export type { HealTrigger };

function event(type: string, message: string, caller: Caller, operationId: string, details?: Record<string, unknown>): EnvironmentEvent {
  return { at: new Date().toISOString(), type, message, actor: caller.actor, operationId, ...(details ? { details } : {}) };
}

function describeTrigger(trigger: HealTrigger): string {
  if (trigger.source === 'api') return 'heal requested';
  const what = trigger.source === 'alarm' ? `alarm ${trigger.signal}` : `ECS event ${trigger.signal}`;
  return `heal triggered by ${what}${trigger.reason ? `: ${trigger.reason}` : ''}`;
}

/** HEALING with a new heal operation, then the heal workflow; a refused start puts the status back. */
async function beginHeal(current: EnvironmentRecord, caller: Caller, trigger: HealTrigger, policy: HealPolicy): Promise<EnvironmentRecord> {
  const now = new Date();
  const version = current.version + 1;
  const id = newOperationId(version);
  const operation: Operation = {
    id, type: 'heal', status: 'RUNNING', startedAt: now.toISOString(), executionName: executionNameFor(current.name, id), workflow: 'heal',
  };
  // a manual heal, and the first heal after another operation, start a fresh count (healing.ts)
  const fresh = trigger.source === 'api' || !countsFromLastHeal(current);
  const record: EnvironmentRecord = {
    ...current,
    status: 'HEALING',
    version,
    updatedAt: now.toISOString(),
    operation,
    healAttempts: fresh ? [] : attemptsInWindow(current.healAttempts, now.getTime(), policy.windowMs),
  };
  await replaceEnvironment(record, current.version, [
    event(trigger.source === 'api' ? 'heal-requested' : 'heal-triggered', `${describeTrigger(trigger)} (from ${current.status})`, caller, id, {
      trigger, from: current.status, ...(fresh && current.healAttempts?.length ? { boundReset: true } : {}),
    }),
  ]);
  const input = { name: record.name, operationId: id, specVersion: record.specVersion, spec: record.spec, actor: caller.actor, trigger };
  try {
    await startWorkflow('heal', operation.executionName!, input);
  } catch (error) {
    const at = new Date().toISOString();
    const failed: EnvironmentRecord = {
      ...record,
      status: current.status,
      version: record.version + 1,
      updatedAt: at,
      operation: { ...operation, status: 'FAILED', finishedAt: at, error: startFailure(error, 'heal') },
    };
    await replaceEnvironment(failed, record.version, [event('operation-failed', 'could not start the heal workflow', caller, id)]).catch(() => undefined);
    throw error;
  }
  return record;
}

function refusal(record: EnvironmentRecord): string {
  const { name, status } = record;
  if (hasOperationInFlight(status)) {
    return `environment "${name}" is ${status}: another operation (${record.operation?.type ?? 'unknown'} ${record.operation?.id ?? ''}) is in flight; heal it when it has finished`;
  }
  switch (status) {
    case 'SLEEPING':
      return `environment "${name}" is SLEEPING: there is nothing running to heal; scale it above 0 to wake it`;
    case 'FAILED':
      return `environment "${name}" is FAILED: its last ${record.operation?.type ?? ''} failed; PUT the spec to retry`;
    case 'DELETED':
      return `environment "${name}" is deleted; PUT it to create it anew`;
    default:
      return `environment "${name}" is ${status} and cannot be healed`;
  }
}

const RACE_ATTEMPTS = 4;

/** POST /v1/environments/{name}/heal: reconcile now (202); resets the DEGRADED bound. */
export async function healEnvironment(name: string, caller: TenantCaller, policy: HealPolicy, ifMatch?: string): Promise<CommandResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      const current = visibleOrNotFound(caller, name, await getEnvironment(name));
      checkIfMatch(ifMatch, current);
      if (!acceptsHeal(current.status)) throw new Conflict(refusal(current));
      return { outcome: 'started', record: await beginHeal(current, caller, { source: 'api' }, policy) };
    } catch (error) {
      // a workflow step bumped the version meanwhile: decide again on a fresh read, unless the caller named a version
      if (!(error instanceof VersionConflict) || ifMatch !== undefined || attempt >= RACE_ATTEMPTS) throw error;
    }
  }
}

export type TriggerResult = { started: true; record: EnvironmentRecord } | { started: false; reason: string };

/** An alarm or ECS signal: starts a heal when the environment may be healed now (healing.ts decideTriggeredHeal). */
export async function startTriggeredHeal(name: string, trigger: HealTrigger, policy: HealPolicy, now = Date.now()): Promise<TriggerResult> {
  const current = await getEnvironment(name);
  const decision = decideTriggeredHeal(current, now, policy, trigger.source === 'api' ? undefined : { source: trigger.source, at: trigger.at });
  if (!decision.start) return { started: false, reason: decision.reason };
  try {
    return { started: true, record: await beginHeal(current!, { actor: 'system', requestId: trigger.eventId ?? 'signal' }, trigger, policy) };
  } catch (error) {
    if (error instanceof VersionConflict) return { started: false, reason: 'another write changed the environment first' };
    throw error;
  }
}

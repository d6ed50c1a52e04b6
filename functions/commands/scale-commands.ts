/**
 * What a scale does to an environment (README "Using the API"), the counterpart of environment-commands.ts
 * for `POST /v1/environments/{name}/scale`, the waker (a request to a sleeping environment's
 * URL) and idle sleep (the schedule): decide from the current record, write conditionally,
 * start the scale workflow.
 *
 * Unlike a PUT, a scale is not "latest wins": it starts from RUNNING or SLEEPING only, and a
 * scale while another operation runs is a 409 (README "Using the API"). It changes the desired spec's
 * `desiredCount`/`autoscaling` (specVersion moves when they do) and remembers the count an
 * environment slept from, so a wake restores it.
 */
import type { EnvironmentEvent } from '#adapters/event-log.ts';
import { getEnvironment, replaceEnvironment } from '#adapters/environment-store.ts';
import { startFailure, startWorkflow } from '#adapters/workflow-starter.ts';
import { sameSpec, type EnvironmentRecord } from '#domain/environment.ts';
import { checkIfMatch, decidedOnFreshRead, event, newOperation, systemCaller, visibleOrNotFound, type Caller, type CommandResult, type TenantCaller } from './environment-commands.ts';
import { Conflict, PreconditionFailed, ValidationFailed } from '#domain/errors.ts';
import { hasOperationInFlight } from '#domain/lifecycle.ts';
import {
  acceptsScale, scaledSpec, scaleIntent, sleptFromCountFor, wakeCount,
  type ScaleIntent, type ScaleRequest,
} from '#domain/scaling.ts';

export interface ScaleOptions {
  /** If-Match: the version the caller read */
  ifMatch?: string;
  /** why (the schedule says how long the environment idled), added to the event */
  reason?: string;
}

/** `POST /v1/environments/{name}/scale`. */
export async function scaleEnvironment(name: string, request: ScaleRequest, caller: TenantCaller, options: ScaleOptions = {}): Promise<CommandResult> {
  return decidedOnFreshRead(options.ifMatch, () => decideScale(name, request, caller, options));
}

function describe(record: EnvironmentRecord): string {
  const op = record.operation;
  return op && hasOperationInFlight(record.status) ? `a ${op.type} operation (${op.id}) is in flight` : `it is ${record.status}`;
}

async function decideScale(name: string, request: ScaleRequest, caller: TenantCaller, options: ScaleOptions): Promise<CommandResult> {
  const current = visibleOrNotFound(caller, name, await getEnvironment(name));
  checkIfMatch(options.ifMatch, current);
  if (current.status === 'DELETED') throw new Conflict(`environment "${name}" is deleted; PUT it to create it anew`);
  if (!acceptsScale(current.status)) {
    const hint = hasOperationInFlight(current.status)
      ? 'scale again when it has finished'
      : 'a PUT of its spec retries it (or POST /heal)';
    throw new Conflict(`environment "${name}" cannot be scaled now: ${describe(current)}; ${hint}`);
  }
  const { spec, errors } = scaledSpec(current.spec, request);
  if (errors.length > 0) throw new ValidationFailed('the scale request does not fit the environment', errors);

  const now = new Date().toISOString();
  const version = current.version + 1;
  const changed = !sameSpec(current.spec, spec);
  const intent = scaleIntent(current, spec);
  const operation = newOperation('scale', 'scale', name, version, now);
  const record: EnvironmentRecord = {
    ...current,
    spec,
    specVersion: changed ? current.specVersion + 1 : current.specVersion,
    status: 'SCALING',
    version,
    updatedAt: now,
    sleptFromCount: sleptFromCountFor(current, spec),
    operation,
  };
  await replaceEnvironment(record, current.version, [requestedEvent(current, record, intent, caller, options.reason)]);
  return { outcome: 'started', record: await launchScale(record, current, caller) };
}

function requestedEvent(current: EnvironmentRecord, next: EnvironmentRecord, intent: ScaleIntent, caller: Caller, reason?: string): EnvironmentEvent {
  const from = current.spec.desiredCount;
  const to = next.spec.desiredCount;
  const autoscaling = next.spec.autoscaling;
  const scaling = autoscaling
    ? `, autoscaling ${autoscaling.minCount}-${autoscaling.maxCount} tasks at ${autoscaling.targetCpuPercent}% CPU`
    : current.spec.autoscaling
      ? ', autoscaling off'
      : '';
  const message = {
    sleep: `sleep requested: ${from} -> 0 tasks`,
    wake: `wake requested: 0 -> ${to} task${to === 1 ? '' : 's'}`,
    scale: `scale requested: ${from} -> ${to} task${to === 1 ? '' : 's'}${scaling}`,
  }[intent];
  return event(`${intent}-requested`, reason ? `${message} (${reason})` : message, caller, next.operation!.id, {
    from, to, autoscaling: autoscaling ?? null, specVersion: next.specVersion,
  });
}

/** Starts the scale workflow; if Step Functions refuses, the environment goes back to where it was (nothing ran). */
async function launchScale(record: EnvironmentRecord, before: EnvironmentRecord, caller: Caller): Promise<EnvironmentRecord> {
  const operation = record.operation!;
  const input = { name: record.name, operationId: operation.id, specVersion: record.specVersion, spec: record.spec, actor: caller.actor };
  try {
    await startWorkflow('scale', operation.executionName!, input);
    return record;
  } catch (error) {
    const now = new Date().toISOString();
    const reverted: EnvironmentRecord = {
      ...before,
      version: record.version + 1,
      updatedAt: now,
      operation: { ...operation, status: 'FAILED', finishedAt: now, error: startFailure(error, 'scale') },
    };
    await replaceEnvironment(reverted, record.version, [
      event('operation-failed', 'could not start the scale workflow; nothing was changed', caller, operation.id),
    ]).catch(() => undefined);
    throw error;
  }
}

/**
 * A request reached a sleeping environment (the waker): wake it, back to the count it slept
 * from. Anything but SLEEPING is left alone and answered as it is (a wake already running, a
 * request that raced the rule swap), so concurrent requests start one wake between them.
 */
export async function wakeEnvironment(name: string, caller: Caller): Promise<CommandResult | undefined> {
  for (let attempt = 1; ; attempt++) {
    const current = await getEnvironment(name);
    if (!current) return undefined;
    if (current.status !== 'SLEEPING') return { outcome: 'unchanged', record: current };
    try {
      return await scaleEnvironment(name, { desiredCount: wakeCount(current) }, systemCaller(caller), { ifMatch: String(current.version) });
    } catch (error) {
      // another request won the race (its wake is running now): read again
      if (!(error instanceof Conflict || error instanceof PreconditionFailed) || attempt >= 3) throw error;
    }
  }
}

/**
 * The schedule found `name` idle: put it to sleep, unless it changed since it was looked at
 * (`version`): a deploy or a request that woke it wins over the schedule.
 */
export async function sleepIdleEnvironment(name: string, version: number, caller: Caller, reason: string): Promise<CommandResult | undefined> {
  try {
    return await scaleEnvironment(name, { desiredCount: 0 }, systemCaller(caller), { ifMatch: String(version), reason });
  } catch (error) {
    if (error instanceof Conflict || error instanceof PreconditionFailed) return undefined;
    throw error;
  }
}

/**
 * Points a sleeping-looking listener rule back at the service of a RUNNING environment (the
 * waker got a request although the environment runs: a rule swap that did not happen): a
 * scale to the count it has re-runs the workflow, whose last step swaps the rule.
 */
export async function repairRunningEnvironment(name: string, caller: Caller): Promise<CommandResult | undefined> {
  const current = await getEnvironment(name);
  if (!current || current.status !== 'RUNNING') return undefined;
  try {
    return await scaleEnvironment(name, { desiredCount: current.spec.desiredCount }, systemCaller(caller), {
      ifMatch: String(current.version),
      reason: 'its URL still led to the waker',
    });
  } catch (error) {
    if (error instanceof Conflict || error instanceof PreconditionFailed) return undefined;
    throw error;
  }
}

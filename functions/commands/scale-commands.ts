/**
 * What a scale does to an environment (README "Using the API"), the counterpart of environment-commands.ts
 * for `POST /v1/environments/{name}/scale`, the waker (wake-commands.ts: a request to a sleeping
 * environment's URL) and idle sleep (idle-sleep.ts: the schedule): decide from the current
 * record, write conditionally, start the scale workflow.
 *
 * Unlike a PUT, a scale is not "latest wins": it starts from RUNNING or SLEEPING only, and a
 * scale while another operation runs is a 409 (README "Using the API"). It changes the desired spec's
 * `desiredCount`/`autoscaling` (specVersion moves when they do) and remembers the count an
 * environment slept from, so a wake restores it.
 */
import { getEnvironment, replaceEnvironment } from '#adapters/environment-store.ts';
import { sameSpec, type EnvironmentRecord } from '#domain/environment.ts';
import { environmentEvent, type EnvironmentEvent } from '#domain/events.ts';
import { checkIfMatch, systemCaller, visibleOrNotFound, type Caller, type CommandResult, type TenantCaller } from './environment-commands.ts';
import { changedMeanwhile, decidedOnFreshRead } from './fresh-read.ts';
import { launch, newOperation } from './launch.ts';
import { Conflict, ValidationFailed } from '#domain/errors.ts';
import { hasOperationInFlight } from '#domain/lifecycle.ts';
import { acceptsScale, scaledSpec, scaleIntent, sleptFromCountFor, type ScaleIntent, type ScaleRequest } from '#domain/scaling.ts';

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

/**
 * A scale the control plane starts on its own (idle sleep, the waker's repair), conditional on
 * the version it read: undefined when the environment changed meanwhile (409 or 412), since the
 * change that won (a deploy, a wake) stands.
 */
export async function scaleUnlessChanged(name: string, request: ScaleRequest, caller: Caller, options: ScaleOptions & { ifMatch: string }): Promise<CommandResult | undefined> {
  try {
    return await scaleEnvironment(name, request, systemCaller(caller), options);
  } catch (error) {
    if (changedMeanwhile(error)) return undefined;
    throw error;
  }
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
  const requested = requestedEvent(current, record, intent, caller, options.reason);
  return {
    outcome: 'started',
    record: await launch({
      record,
      write: (next) => replaceEnvironment(next, current.version, [requested]),
      // nothing ran: the environment goes back to where it was, spec included
      undo: () => current,
      undoNote: 'nothing was changed',
    }, caller),
  };
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
  return environmentEvent({ type: `${intent}-requested`, message: reason ? `${message} (${reason})` : message, actor: caller.actor, operationId: next.operation!.id, details: {
    from, to, autoscaling: autoscaling ?? null, specVersion: next.specVersion,
  } });
}

/**
 * The end of a workflow operation, written once for every step that ends one or ends a pass
 * (CompleteOperation, CompleteScale, FailOperation, FinishHeal, DegradeEnvironment,
 * FinishTeardown; InspectEnvironment asks the first question too):
 * - is this operation still current? A DELETE may have superseded it, or a retried step's
 *   first attempt ended it: then the step records nothing (`currentOperation`);
 * - converge to a newer spec, or finish? A PUT accepted while the pass ran wins (README
 *   "Using the API", latest wins): the workflow goes round again with it (`newerSpec`);
 * - what was skipped: versions accepted meanwhile that no pass deploys (`skippedSpecEvents`);
 * - a write that lost the race with such a PUT is decided again on a fresh read (`untilRecorded`);
 * - why a pass failed, from the service's stopped tasks and the error caught (`failureOf`);
 * - the least there is to record when the step that records a failure failed itself (`recordFallbackFailure`).
 */
import { logger } from '#runtime/powertools.ts';
import { runtimeConfig } from '#runtime/config.ts';
import { runsOperation, type Operation, type OperationError } from '#domain/environment.ts';
import type { EnvironmentSpec } from '#domain/environment-spec.ts';
import type { EnvironmentEvent, StepEvent } from '#domain/events.ts';
import { environmentEvent } from '#domain/events.ts';
import { publicErrorName } from '#domain/public-text.ts';
import type { ResourcePlan } from '#domain/resource-plan.ts';
import { classifyFailure, type StoppedTask } from '#domain/task-failure.ts';
import type { CaughtError, WorkflowState } from '#domain/workflow-state.ts';
import { deployPlan } from '#adapters/deploy-plan.ts';
import { stoppedTasks, taskDefinitionImage } from '#adapters/fargate-resources.ts';
import { failOperation, getEnvironmentItem, type EnvironmentItem, type Failure } from '#adapters/operation-store.ts';
import { stateScope } from './shard-scope.ts';

/** The environment as a step that may still record finds it: its operation is the step's own, RUNNING. */
export type CurrentItem = EnvironmentItem & { operation: Operation };

/** The environment, if `operationId` is still its running operation; undefined (and a warning) when the step should record nothing. */
export async function currentOperation(
  state: { name: string; operationId: string },
  context?: Record<string, unknown>,
): Promise<CurrentItem | undefined> {
  return stillCurrent(await getEnvironmentItem(state.name), state, context);
}

/** `currentOperation` on an item the step has read already. */
export function stillCurrent(
  item: EnvironmentItem | undefined,
  state: { operationId: string },
  context: Record<string, unknown> = {},
): CurrentItem | undefined {
  if (runsOperation(item, state.operationId)) return item;
  logger.warn('operation is no longer current; nothing to record', context);
  return undefined;
}

export interface NewerSpec {
  spec: EnvironmentSpec;
  specVersion: number;
}

/** The desired spec accepted after the one this pass deployed, which the workflow converges to; undefined: finish. */
export function newerSpec(item: EnvironmentItem, state: { specVersion: number }): NewerSpec | undefined {
  return item.specVersion > state.specVersion ? { spec: item.spec, specVersion: item.specVersion } : undefined;
}

/** The request inputs of the next pass, which deploys the newer spec. */
export function planOf(state: { name: string; operationId: string; shard?: unknown }, newer: NewerSpec): Promise<ResourcePlan> {
  return deployPlan(state.name, newer.spec, stateScope(state), state.operationId, newer.specVersion);
}

/** One `spec-skipped` event per version accepted between the pass's and the newer one: no pass deploys them. */
export function skippedSpecEvents(event: StepEvent, from: number, newer: NewerSpec): EnvironmentEvent[] {
  const skipped: EnvironmentEvent[] = [];
  for (let v = from + 1; v < newer.specVersion; v++) {
    skipped.push(event('spec-skipped', `spec version ${v} was skipped: a newer spec (version ${newer.specVersion}) arrived first`, { specVersion: v }));
  }
  return skipped;
}

/** The `converging` event: `what` describes the newer spec (its image unless said), `why` comes first when given. */
export function convergingEvent(event: StepEvent, from: number, newer: NewerSpec, what = newer.spec.image, why?: string): EnvironmentEvent {
  return event('converging', `${why ? `${why}: ` : ''}converging to the desired spec version ${newer.specVersion} (${what})`, {
    from, to: newer.specVersion,
  });
}

/** Lost races before a step gives up (its state's Retry then runs it again). */
const RECORD_ATTEMPTS = 5;

/**
 * Runs `attempt` until it records: undefined means a PUT moved the desired spec between the
 * read and the conditional write, and the end is decided again on a fresh read.
 */
export async function untilRecorded<T>(what: string, attempt: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < RECORD_ATTEMPTS; i++) {
    const result = await attempt();
    if (result) return result;
  }
  throw new Error(`could not record the end of ${what}: the environment kept changing`);
}

export interface TaskEvidence {
  /** only tasks of this revision (the pass's) */
  taskDefinitionArn?: string;
  /** only tasks stopped at or after this time (ms; the operation's start) */
  since?: number;
  /** at most this many of them */
  limit?: number;
}

/**
 * Why a pass failed, in the README's error codes: the service's stopped tasks say it best (an
 * image that cannot be pulled, a task that ran out of memory), else the error the workflow
 * caught. Stopped tasks that cannot be read are no evidence, not a second failure.
 */
export async function failureOf(name: string, caught: CaughtError | undefined, evidence: TaskEvidence = {}): Promise<OperationError> {
  let tasks: StoppedTask[] = [];
  try {
    tasks = await stoppedTasks(runtimeConfig().clusterArn, name, evidence.taskDefinitionArn);
  } catch (error) {
    logger.warn('could not read the stopped tasks', { error: (error as Error).message });
  }
  const since = evidence.since;
  if (since !== undefined) tasks = tasks.filter((task) => task.stoppedAt === undefined || new Date(task.stoppedAt).getTime() >= since);
  return classifyFailure(caught, evidence.limit === undefined ? tasks : tasks.slice(0, evidence.limit));
}

/** The image the service runs after the circuit breaker rolled it back (its PRIMARY revision's), or the last healthy one. */
export async function imageAfterRollback(taskDefinitionArn: string | undefined, lastHealthyImage: string | undefined): Promise<string | undefined> {
  try {
    return (await taskDefinitionImage(taskDefinitionArn)) ?? lastHealthyImage;
  } catch (error) {
    logger.warn('could not read the image the service was rolled back to', { error: (error as Error).message });
    return lastHealthyImage;
  }
}

/**
 * The fallback after the step that records a failure failed itself (the ASL's `*Fallback`
 * states): the operation FAILED with the error caught and why recording it failed, the
 * environment `status`, one `failed` event and nothing else, so the operation ends now rather
 * than at the hourly stuck-operation sweep. `what` names the operation (`create`, `scale`...),
 * `step` the state that failed. The caught Cause is AWS's text: it goes to the log, the
 * record names the errors only (docs/security.md).
 */
export async function recordFallbackFailure(
  state: WorkflowState,
  what: string,
  step: string,
  status: Failure['status'],
): Promise<{ recorded: boolean; error: OperationError }> {
  const now = new Date().toISOString();
  const error: OperationError = {
    code: 'INTERNAL',
    message: `${what} failed (${publicErrorName(state.error?.Error) ?? 'unknown error'}); recording the failure failed too (${publicErrorName(state.terminalError?.Error) ?? 'unknown error'})`,
  };
  logger.error(`${step} failed; recording the failure with the fallback`, { error, workflowError: state.error, terminalError: state.terminalError });
  const recorded = await failOperation({
    name: state.name, operationId: state.operationId, status, error, now,
    events: [environmentEvent({
      at: now, state, type: 'failed', message: `${what} failed: ${error.code}: ${error.message}`,
      details: { error, workflowError: state.error?.Error ?? null, terminalError: state.terminalError?.Error ?? null, specVersion: state.specVersion, fallback: true },
    })],
  });
  return { recorded, error };
}

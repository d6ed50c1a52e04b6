/**
 * DegradeEnvironment (heal): the environment could not be saved within the bound
 * (FLEDGE_HEAL_MAX_PER_HOUR heals in the last hour), or a new spec could not be deployed
 * during a heal. HEALING -> DEGRADED with the reason, and the notification the workflow
 * publishes next (SNS). A DEGRADED environment starts no heal from alarms until an update, a
 * manual heal or a scale (functions/domain/healing.ts).
 */
import { healPolicy, environmentUrl, runtimeConfig } from '#runtime/config.ts';
import { logger } from '#runtime/powertools.ts';
import type { OperationError } from '#domain/environment.ts';
import type { HealState } from '#domain/heal-state.ts';
import { publicErrorName } from '#domain/public-text.ts';
import { classifyFailure } from '#domain/task-failure.ts';
import type { TaskPayload } from '#domain/workflow-state.ts';
import { stoppedTasks } from '#adapters/fargate-resources.ts';
import { markDegraded } from '#adapters/heal-store.ts';
import { getEnvironmentItem } from '#adapters/operation-store.ts';
import { taskHandler } from '#lambda/task-handler.ts';

async function handle(payload: TaskPayload): Promise<HealState> {
  const state = payload.state as HealState;
  if (payload.fallback) return fallback(state);
  const item = await getEnvironmentItem(state.name);
  if (!item || item.operation?.id !== state.operationId || item.operation.status !== 'RUNNING') {
    logger.warn('heal is no longer the current operation; nothing to record');
    return { ...state, next: 'superseded' };
  }
  const config = runtimeConfig();
  const policy = healPolicy();
  const attempts = state.heal?.attempts ?? 0;
  const convergeFailed = state.error !== undefined;
  let error: OperationError | undefined = convergeFailed ? undefined : state.heal?.lastError;
  if (!error) {
    let tasks: Awaited<ReturnType<typeof stoppedTasks>> = [];
    try {
      tasks = await stoppedTasks(config.clusterArn, state.name);
    } catch (failure) {
      logger.warn('could not read the stopped tasks', { error: (failure as Error).message });
    }
    error = classifyFailure(state.error ?? { Error: 'HealBoundReached', Cause: 'the environment is still broken' }, tasks.slice(0, 10));
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
      {
        at: now, type: 'degraded', message, operationId: state.operationId, actor: state.actor,
        details: { attempts, maxPerHour: policy.maxPerHour, error, found: state.found ?? null, actions: state.actions ?? [], notification: 'published to the environment notifications topic' },
      },
    ],
  });
  if (!done) return { ...state, next: 'superseded' };
  logger.warn('environment degraded', { attempts, code: error.code });
  const subject = `Fledge: environment ${state.name} is DEGRADED`.slice(0, 99);
  return {
    ...state,
    notification: {
      Subject: subject,
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
 * The fallback after DegradeEnvironment itself failed (the ASL's DegradeFallback): DEGRADED
 * with the error caught and why recording failed, nothing else, and a short notification;
 * the heal ends now rather than at the hourly stuck-operation sweep.
 */
async function fallback(state: HealState): Promise<HealState> {
  const item = await getEnvironmentItem(state.name);
  if (!item || item.operation?.id !== state.operationId || item.operation.status !== 'RUNNING') return { ...state, next: 'superseded' };
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
    events: [{ at: now, type: 'degraded', message, operationId: state.operationId, actor: state.actor, details: { error, fallback: true } }],
  });
  if (!done) return { ...state, next: 'superseded' };
  return {
    ...state,
    notification: {
      Subject: `Fledge: environment ${state.name} is DEGRADED`.slice(0, 99),
      Message: JSON.stringify({ environment: state.name, status: 'DEGRADED', operationId: state.operationId, reason: message, error, at: now }, null, 2),
    },
    next: 'notify',
  };
}

export const handler = taskHandler(handle);

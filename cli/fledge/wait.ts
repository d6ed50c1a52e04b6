/**
 * `--wait`: polls the environment until its operation has ended (or it is gone, for a
 * delete), reporting progress on every poll. Polls back off while nothing changes (1 s up to
 * 10 s, back to 1 s on a change) and honour `Retry-After` on 429/503 answers; a few network
 * or gateway failures in a row are ridden out, more become the usual one-line error.
 * Stopping the wait (Ctrl-C) is the caller's business: nothing here touches the environment.
 */
import { hasOperationInFlight, type Status } from '../../functions/domain/lifecycle.ts';
import { CliError, describeProblem, retryAfterMs, type Api } from './connection.ts';
import type { EnvironmentView, EventItem, Progress } from './format.ts';

export type WaitGoal = 'settled' | 'deleted';
export type WaitOutcome = 'done' | 'failed' | 'deleted' | 'timeout';

export interface WaitDeps {
  api: Api;
  report(progress: Progress): void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface WaitOptions {
  timeoutMs: number;
  /** when the wait began (the request that started the operation), for the elapsed time */
  startedAt?: number;
  firstPollMs?: number;
  maxPollMs?: number;
}

export interface WaitResult {
  outcome: WaitOutcome;
  /** the last view read (none when a deleted environment answered 404) */
  env?: EnvironmentView;
}

/** The number of failed polls in a row (network, 5xx) a wait rides out before giving up. */
const TOLERATED_FAILURES = 6;

export const isFailedStatus = (status: string) => status === 'FAILED' || status === 'DEGRADED';

/** Whether a view is where `goal` ends, and how. */
export function outcomeOf(env: EnvironmentView, goal: WaitGoal): WaitOutcome | undefined {
  if (env.status === 'DELETED') return 'deleted';
  if (goal === 'deleted') return undefined;
  if (hasOperationInFlight(env.status as Status)) return undefined;
  return isFailedStatus(env.status) ? 'failed' : 'done';
}

export async function waitFor(name: string, goal: WaitGoal, deps: WaitDeps, options: WaitOptions): Promise<WaitResult> {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const first = options.firstPollMs ?? 1000;
  const max = options.maxPollMs ?? 10_000;
  const startedAt = options.startedAt ?? now();
  const path = `/v1/environments/${encodeURIComponent(name)}`;
  let interval = first;
  let failures = 0;
  let lastKey = '';
  let last: EnvironmentView | undefined;

  for (;;) {
    let pause = interval;
    let answer;
    try {
      answer = await deps.api.send('GET', path);
    } catch (error) {
      if (++failures > TOLERATED_FAILURES) throw error;
    }
    if (answer) {
      if (answer.status === 200) {
        failures = 0;
        const env = answer.body as EnvironmentView;
        last = env;
        const step = await currentStep(deps.api, env);
        const progress: Progress = {
          name,
          status: env.status,
          ...(env.operation ? { operation: `${env.operation.type} ${env.operation.status}` } : {}),
          ...(step ? { step } : {}),
          runningCount: env.runningCount,
          ...(env.desiredCount !== undefined ? { desiredCount: env.desiredCount } : {}),
          elapsedMs: now() - startedAt,
        };
        deps.report(progress);
        const outcome = outcomeOf(env, goal);
        if (outcome) return { outcome, env };
        const key = `${progress.status}|${progress.operation}|${progress.step}|${progress.runningCount}`;
        interval = key === lastKey ? Math.min(Math.round(interval * 1.5), max) : first;
        lastKey = key;
        pause = interval;
      } else if (answer.status === 404 && goal === 'deleted') {
        return { outcome: 'deleted', ...(last ? { env: { ...last, status: 'DELETED' } } : {}) };
      } else if (answer.status === 429 || answer.status >= 500) {
        if (++failures > TOLERATED_FAILURES) throw new CliError(`GET ${path}: ${describeProblem(answer)}`);
        pause = Math.max(retryAfterMs(answer) ?? interval, interval);
      } else {
        throw new CliError(`GET ${path}: ${describeProblem(answer)}`);
      }
    }
    if (now() - startedAt >= options.timeoutMs) return { outcome: 'timeout', ...(last ? { env: last } : {}) };
    await sleep(Math.min(pause, Math.max(0, startedAt + options.timeoutMs - now()) + 1));
  }
}

/** The newest event of the running operation: the last workflow step it reached (best effort). */
async function currentStep(api: Api, env: EnvironmentView): Promise<string | undefined> {
  if (env.operation?.status !== 'RUNNING') return undefined;
  try {
    const answer = await api.send('GET', `/v1/environments/${encodeURIComponent(env.name)}/events?limit=1`);
    const newest = (answer.body as { items?: EventItem[] } | undefined)?.items?.[0];
    return answer.status === 200 && newest?.operationId === env.operation.id ? newest.type : undefined;
  } catch {
    return undefined;
  }
}

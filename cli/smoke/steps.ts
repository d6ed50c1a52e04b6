/**
 * The smoke test itself: one environment through its whole life against a deployed Fledge
 * (or local mode), step by step, each step one plain line with its elapsed time. On a
 * failure it says which step, what the environment's status and operation error were, and
 * deletes the environment it created (unless `keep`).
 *
 *   1 health     GET /v1/health (on AWS: proves SigV4 and the caller's execute-api:Invoke)
 *   2 create     POST /v1/environments -> RUNNING with a url
 *   3 serve      GET <url> -> 2xx (DNS, ALB listener rule, target group, task)
 *   4 update     PATCH an environment variable -> RUNNING with the new spec and version
 *   5 sleep      POST .../scale {desiredCount: 0} -> SLEEPING
 *   6 wake       GET <url> -> the waker's 503 with Retry-After; then RUNNING and 2xx
 *   7 heal       delete the ECS service out of band -> HEALING -> RUNNING, 2xx again
 *   8 delete     DELETE -> DELETED; the last event is the receipt of removed resources
 *   9 leftovers  nothing tagged fledge:environment=<name> is left, nor its DNS record (bounded retries)
 */
import { describeAnswer, type ApiAnswer, type FledgeApi } from '../api-client.ts';
import { ENVIRONMENT_TAG, type OutOfBand } from './backends.ts';
import { getPage as defaultGetPage, pageTitle, type PageAnswer } from './probe.ts';

export const SMOKE_CPU = 256;
export const SMOKE_MEMORY = 512;
export const REVISION_VARIABLE = 'FLEDGE_SMOKE_REVISION';
export const STEPS = ['health', 'create', 'serve', 'update', 'sleep', 'wake', 'heal', 'delete', 'leftovers'] as const;
export type StepName = (typeof STEPS)[number];

export interface SmokeOptions {
  name: string;
  image: string;
  port: number;
  /** how long each step may take */
  stepTimeoutMs: number;
  /** how often to poll the API and the URL */
  pollMs: number;
  /** how often to ask the backend for leftovers (the tagging API is rate-limited and lags) */
  leftoversPollMs?: number;
  /** leave the environment in place on a failure */
  keep: boolean;
}

export interface SmokeDeps {
  api: FledgeApi;
  backend: OutOfBand;
  log: (line: string) => void;
  getPage?: (url: string) => Promise<PageAnswer>;
  /** aborts the run (Ctrl-C): the current step fails as "interrupted" and cleanup runs */
  signal?: AbortSignal;
  now?: () => number;
}

export interface StepRecord {
  step: StepName;
  ms: number;
  detail: string;
}

export interface SmokeResult {
  ok: boolean;
  steps: StepRecord[];
  failedStep?: StepName;
  message?: string;
  /** operation.error.code of the environment when a step failed, if any */
  errorCode?: string;
  /** whether the failure cleanup left nothing behind (undefined: no cleanup ran) */
  cleanedUp?: boolean;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
type Environment = any;

export class StepFailed extends Error {}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** the environment URL's host (its DNS record's name), once the create reported the URL */
const hostOf = (url: string): string | undefined => {
  try {
    return url ? new URL(url).hostname : undefined;
  } catch {
    return undefined;
  }
};

function describeEnvironment(env: Environment): string {
  if (!env) return 'not readable';
  const op = env.operation;
  const parts = [`status ${env.status}`];
  if (op) parts.push(`operation ${op.type} ${op.status}`);
  if (op?.error) parts.push(`error ${op.error.code}: ${op.error.message}`);
  return parts.join('; ');
}

function brokenStatus(env: Environment): string | undefined {
  if (env.status === 'FAILED' || env.status === 'DEGRADED') {
    const error = env.operation?.error;
    return `environment is ${env.status}${error ? `: ${error.code}: ${error.message}` : ''}`;
  }
  return undefined;
}

export async function runSmoke(options: SmokeOptions, deps: SmokeDeps): Promise<SmokeResult> {
  const { api, backend, log, signal } = deps;
  const now = deps.now ?? Date.now;
  const getPage = deps.getPage ?? defaultGetPage;
  const { name } = options;
  const path = `/v1/environments/${name}`;
  const steps: StepRecord[] = [];
  const runStarted = now();
  let created = false;
  let url = '';

  const sleep = (ms: number, abortable = true) =>
    new Promise<void>((resolve, reject) => {
      if (abortable && signal?.aborted) return reject(new StepFailed('interrupted'));
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(new StepFailed('interrupted'));
      };
      if (abortable) signal?.addEventListener('abort', onAbort, { once: true });
    });

  const read = async (): Promise<Environment> => {
    const answer = await api.call('GET', path);
    if (answer.status !== 200) throw new Error(`GET ${path}: ${describeAnswer(answer)}`);
    return answer.body;
  };

  /** polls the environment until `done`; fails at once when `broken` names a reason, or at the step timeout */
  const waitFor = async (what: string, done: (env: Environment) => boolean, broken: (env: Environment) => string | undefined = brokenStatus, abortable = true): Promise<Environment> => {
    const deadline = now() + options.stepTimeoutMs;
    let last: Environment;
    for (;;) {
      let readError = '';
      try {
        last = await read();
      } catch (error) {
        readError = (error as Error).message; // a transient API error: try again until the deadline
      }
      if (!readError) {
        if (done(last)) return last;
        const reason = broken(last);
        if (reason) throw new StepFailed(reason);
      }
      if (now() >= deadline) {
        throw new StepFailed(`${what} not reached within ${seconds(options.stepTimeoutMs)}; last: ${readError || describeEnvironment(last)}`);
      }
      await sleep(options.pollMs, abortable);
    }
  };

  /** GETs the URL until it answers 2xx */
  const served = async (what: string): Promise<PageAnswer> => {
    const deadline = now() + options.stepTimeoutMs;
    for (;;) {
      let last: string;
      try {
        const page = await getPage(url);
        if (page.status >= 200 && page.status < 300) return page;
        last = `HTTP ${page.status}${pageTitle(page.text) ? ` "${pageTitle(page.text)}"` : ''}`;
      } catch (error) {
        last = (error as Error).message;
      }
      if (now() >= deadline) throw new StepFailed(`${what}: ${url} did not answer 2xx within ${seconds(options.stepTimeoutMs)}; last: ${last}`);
      await sleep(options.pollMs);
    }
  };

  const expectStatus = (answer: ApiAnswer, expected: number[], what: string) => {
    if (!expected.includes(answer.status)) throw new StepFailed(`${what}: expected HTTP ${expected.join(' or ')}, got ${describeAnswer(answer)}`);
  };

  const events = async (limit = 100): Promise<{ type: string; actor?: string; message?: string; details?: any }[]> => {
    const answer = await api.call('GET', `${path}/events?limit=${limit}`);
    if (answer.status !== 200) throw new StepFailed(`GET ${path}/events: ${describeAnswer(answer)}`);
    return answer.body?.items ?? [];
  };

  const bodies: Record<StepName, () => Promise<string>> = {
    async health() {
      const answer = await api.call('GET', '/v1/health');
      if (answer.status === 403) {
        throw new StepFailed(`GET /v1/health: ${describeAnswer(answer)} (the API uses IAM auth: the caller needs execute-api:Invoke on it, and the request is signed for the endpoint's region)`);
      }
      expectStatus(answer, [200], 'GET /v1/health');
      return `API answers: ${answer.body?.status ?? '?'}, version ${answer.body?.version ?? '?'}, mode ${answer.body?.mode ?? '?'}`;
    },

    async create() {
      const spec = {
        name,
        image: options.image,
        port: options.port,
        cpu: SMOKE_CPU,
        memory: SMOKE_MEMORY,
        desiredCount: 1,
        environment: { [REVISION_VARIABLE]: '1' },
        // if the smoke dies without cleaning up, the scheduled cleanup removes it after this
        ttl: '3h',
        labels: { repository: 'fledge/smoke', 'fledge.dev/no-sleep': 'true' },
      };
      // POST, not PUT: a name that is taken is a 409, and the smoke never touches an environment it did not create
      const answer = await api.call('POST', '/v1/environments', spec);
      if (answer.status === 409) throw new StepFailed(`an environment named ${name} already exists; choose another --name (the smoke only touches environments it creates)`);
      expectStatus(answer, [201], 'POST /v1/environments');
      created = true;
      const env = await waitFor('RUNNING', (e) => e.status === 'RUNNING');
      if (!env.url) throw new StepFailed('RUNNING, but the environment has no url');
      url = env.url;
      return `RUNNING at ${url} (version ${env.version})`;
    },

    async serve() {
      const page = await served('serve');
      return `GET ${url} -> ${page.status}${pageTitle(page.text) ? ` "${pageTitle(page.text)}"` : ''}`;
    },

    async update() {
      const before = await read();
      const answer = await api.call('PATCH', path, { environment: { [REVISION_VARIABLE]: '2' } });
      expectStatus(answer, [202], `PATCH ${path}`);
      const operationId = answer.body?.operation?.id;
      const env = await waitFor(
        `RUNNING with ${REVISION_VARIABLE}=2`,
        (e) => e.status === 'RUNNING' && e.operation?.id === operationId && e.operation?.status === 'SUCCEEDED' && e.environment?.[REVISION_VARIABLE] === '2',
        (e) => (e.operation?.id === operationId && e.operation?.status === 'FAILED' ? `the update failed: ${describeEnvironment(e)}` : brokenStatus(e)),
      );
      if (!(env.version > before.version)) throw new StepFailed(`the version did not move (${before.version} -> ${env.version})`);
      const page = await served('update');
      return `RUNNING with ${REVISION_VARIABLE}=2 (version ${before.version} -> ${env.version}); GET ${url} -> ${page.status}`;
    },

    async sleep() {
      const answer = await api.call('POST', `${path}/scale`, { desiredCount: 0 });
      expectStatus(answer, [202], `POST ${path}/scale`);
      const operationId = answer.body?.operation?.id;
      const env = await waitFor(
        'SLEEPING',
        (e) => e.status === 'SLEEPING' && e.operation?.id === operationId && e.operation?.status === 'SUCCEEDED',
        (e) => (e.operation?.id === operationId && e.operation?.status === 'FAILED' ? `the sleep failed: ${describeEnvironment(e)}` : brokenStatus(e)),
      );
      return `SLEEPING (desired ${env.desiredCount}, running ${env.runningCount})`;
    },

    async wake() {
      const started = now();
      const first = await getPage(url);
      const retryAfter = first.headers['retry-after'];
      if (first.status !== 503 || retryAfter === undefined) {
        throw new StepFailed(
          `GET ${url} while SLEEPING: expected the waker's 503 with Retry-After, got HTTP ${first.status}${retryAfter === undefined ? ' without Retry-After' : ''}${pageTitle(first.text) ? ` "${pageTitle(first.text)}"` : ''}`,
        );
      }
      const title = pageTitle(first.text) ?? '';
      await waitFor('RUNNING after the wake', (e) => e.status === 'RUNNING', (e) => brokenStatus(e) ?? (e.operation?.type === 'scale' && e.operation?.status === 'FAILED' ? `the wake failed: ${describeEnvironment(e)}` : undefined));
      const page = await served('wake');
      const wokenAfter = now() - started;
      const history = await events();
      const wake = history.find((e) => e.type === 'wake-requested');
      if (wake?.actor !== 'request') throw new StepFailed(`RUNNING again, but no wake-requested event by actor "request" (the waker did not start it): ${JSON.stringify(wake ?? null)}`);
      return `503 "${title}" (Retry-After: ${String(retryAfter)}); RUNNING and GET ${url} -> ${page.status} ${seconds(wokenAfter)} after the first request`;
    },

    async heal() {
      const before = await read();
      // heals nobody caused (e.g. a tasks alarm on missing data while the service was new) are worth knowing about
      const earlier = (await events()).filter((e) => e.type === 'heal-triggered').map((e) => e.details?.trigger?.signal ?? '?');
      const started = now();
      const done = await backend.deleteService(name);
      let healingAfter: number | undefined;
      const env = await waitFor(
        'HEALING, then RUNNING',
        (e) => {
          const healOperation = e.operation?.type === 'heal' && e.operation?.id !== before.operation?.id;
          if (healingAfter === undefined && (e.status === 'HEALING' || healOperation)) healingAfter = now() - started;
          return healingAfter !== undefined && healOperation && e.status === 'RUNNING' && e.operation?.status === 'SUCCEEDED';
        },
      );
      const page = await served('heal');
      const history = await events();
      const trigger = history.find((e) => e.type === 'heal-triggered')?.details?.trigger?.signal ?? 'none recorded';
      const repairs = history
        .slice(0, history.findIndex((e) => e.type === 'heal-triggered') + 1)
        .filter((e) => e.type === 'heal-repair')
        .map((e) => e.details?.repair)
        .filter(Boolean);
      return `${done}; HEALING after ${seconds(healingAfter ?? 0)}, RUNNING after ${seconds(now() - started)} (trigger ${trigger}; repairs ${repairs.join(', ') || 'none'}; operation ${env.operation.id}); GET ${url} -> ${page.status}; heals before the fault: ${earlier.length ? earlier.join(', ') : 'none'}`;
    },

    async delete() {
      // the leftovers step proves nothing unless the resources were tagged in the first place
      const tagged = await backend.tagged(name);
      if (tagged.length === 0) throw new StepFailed(`before the delete, nothing is tagged ${ENVIRONMENT_TAG}=${name}: the leftovers check would prove nothing`);
      const answer = await api.call('DELETE', path);
      expectStatus(answer, [200, 202], `DELETE ${path}`);
      await waitFor('DELETED', (e) => e.status === 'DELETED', (e) => (e.operation?.type === 'teardown' && e.operation?.status === 'FAILED' ? `the teardown failed: ${describeEnvironment(e)}` : undefined));
      const [receipt] = await events(1);
      if (receipt?.type !== 'deleted') throw new StepFailed(`DELETED, but the newest event is ${JSON.stringify(receipt ?? null)}, not the receipt`);
      const removed = (receipt.details?.removed ?? []) as { type: string; arn: string }[];
      const kept = (receipt.details?.kept ?? []) as { type: string }[];
      const missing = ['ecs-service', 'listener-rule', 'target-group'].filter((type) => !removed.some((r) => r.type === type));
      if (missing.length) throw new StepFailed(`the receipt does not name a removed ${missing.join(', ')}: ${receipt.message}`);
      const counts = new Map<string, number>();
      for (const r of removed) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
      return `${tagged.length} resources tagged ${ENVIRONMENT_TAG}=${name} before; DELETED; receipt: removed ${removed.length} (${[...counts].map(([type, n]) => (n > 1 ? `${n} ${type}` : type)).join(', ')})${kept.length ? `, kept ${kept.length} shared task definition${kept.length > 1 ? 's' : ''}` : ''}`;
    },

    async leftovers() {
      const left = await untilNothingLeft(options.stepTimeoutMs, true);
      if (left.length) throw new StepFailed(`still there after ${seconds(options.stepTimeoutMs)}:\n    ${left.join('\n    ')}`);
      return backend.kind === 'aws'
        ? `nothing tagged ${ENVIRONMENT_TAG}=${name} in the tagging API, ECS service ${name} INACTIVE${backend.checksDnsRecords ? `, no record of ${hostOf(url) ?? name} in the hosted zone` : ''}`
        : `GET /_local/resources lists nothing of ${name}`;
    },
  };

  /** asks the backend until nothing is left or time is up (the tagging API is eventually consistent) */
  async function untilNothingLeft(timeoutMs: number, abortable: boolean): Promise<string[]> {
    const deadline = now() + timeoutMs;
    for (;;) {
      let left: string[];
      try {
        left = await backend.leftovers(name, hostOf(url));
      } catch (error) {
        left = [`(could not list: ${(error as Error).message})`];
      }
      if (left.length === 0 || now() >= deadline) return left;
      await sleep(options.leftoversPollMs ?? options.pollMs, abortable);
    }
  }

  for (const [index, step] of STEPS.entries()) {
    const started = now();
    const label = `${index + 1}/${STEPS.length} ${step.padEnd(9)}`;
    try {
      const detail = await bodies[step]();
      const ms = now() - started;
      steps.push({ step, ms, detail });
      log(`ok     ${label} ${seconds(ms).padStart(8)}  ${detail}`);
    } catch (error) {
      const message = (error as Error).message;
      log(`FAILED ${label} ${seconds(now() - started).padStart(8)}  ${message}`);
      let env: Environment;
      try {
        env = await read();
      } catch (readError) {
        env = undefined;
        log(`  environment ${name}: ${(readError as Error).message}`);
      }
      if (env) log(`  environment ${name}: ${describeEnvironment(env)}`);
      if (!(error instanceof StepFailed)) log(`  (unexpected error: ${(error as Error).stack?.split('\n').slice(0, 3).join(' | ')})`);
      const cleanedUp = await cleanup(env, step);
      return { ok: false, steps, failedStep: step, message, errorCode: env?.operation?.error?.code, cleanedUp };
    }
  }
  log(`smoke passed: ${STEPS.length} steps in ${seconds(now() - runStarted)}`);
  return { ok: true, steps };

  /** deletes what the smoke created and checks nothing is left; true when nothing is */
  async function cleanup(env: Environment, failedStep: StepName): Promise<boolean | undefined> {
    if (!created) return undefined;
    if (options.keep) {
      log(`cleanup: skipped (--keep); remove it with DELETE ${path}`);
      return undefined;
    }
    const started = now();
    try {
      if (env?.status !== 'DELETED') {
        log(`cleanup: deleting ${name} (--keep leaves it for inspection)`);
        const answer = await api.call('DELETE', path);
        if (answer.status !== 200 && answer.status !== 202) throw new Error(`DELETE ${path}: ${describeAnswer(answer)}`);
        await waitFor('DELETED', (e) => e.status === 'DELETED', () => undefined, false);
      }
      const left = failedStep === 'leftovers' ? await backend.leftovers(name, hostOf(url)) : await untilNothingLeft(options.stepTimeoutMs, false);
      if (left.length) {
        log(`cleanup: ${name} is DELETED but these are left after ${seconds(now() - started)}:\n    ${left.join('\n    ')}`);
        return false;
      }
      log(`cleanup: ${name} DELETED and nothing of it is left (${seconds(now() - started)})`);
      return true;
    } catch (error) {
      log(`cleanup FAILED after ${seconds(now() - started)}: ${(error as Error).message}; check for resources tagged ${ENVIRONMENT_TAG}=${name}`);
      return false;
    }
  }
}

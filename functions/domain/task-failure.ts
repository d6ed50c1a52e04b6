/**
 * Why did an operation fail? Turns what a workflow knows — the Step Functions error that
 * ended it and the service's stopped tasks — into the API's `{code, message}`, so a
 * pipeline can act on `IMAGE_PULL_FAILED` without parsing prose. Pure.
 */
import type { ErrorCode, OperationError } from './environment.ts';
import { publicErrorName, publicText, workflowStepFailure } from './public-text.ts';
import { APP_CONTAINER } from './sidecars.ts';
import { DNS_NAME_IN_USE_ERROR, dnsNameInUseMessage } from './dns-records.ts';
import { STOP_SIGNAL_EXIT_CODES } from './hook-runs.ts';

/** The facts of a stopped ECS task that tell why it stopped (DescribeTasks). */
export interface StoppedTask {
  taskArn?: string;
  taskDefinitionArn?: string;
  stopCode?: string;
  stoppedReason?: string;
  stoppedAt?: string | Date;
  containers?: { name?: string; exitCode?: number; reason?: string }[];
}

/** The error a workflow caught (`{Error, Cause}` of a Catch). */
export interface WorkflowError {
  Error?: string;
  Cause?: string;
}

const PULL = /CannotPullContainer|pull image|pulling image|manifest (?:for .* )?(?:not found|unknown)|ImagePull|repository does not exist|ErrImagePull/i;
const OOM = /OutOfMemory|out of memory|OOMKilled|killed due to memory/i;
const HEALTH = /health ?check/i;
const SECRET = /ResourceInitializationError|unable to (?:retrieve|pull) secrets|AccessDenied.*secret/i;

function containerText(task: StoppedTask): string {
  return (task.containers ?? []).map((c) => c.reason ?? '').join(' ');
}

/** Classifies one stopped task, or undefined when it stopped for no fault of its own. */
export function classifyStoppedTask(task: StoppedTask): OperationError | undefined {
  const reason = task.stoppedReason ?? '';
  const containers = containerText(task);
  const text = `${reason} ${containers}`;
  if (PULL.test(text)) {
    return { code: 'IMAGE_PULL_FAILED', message: `the image could not be pulled: ${firstLine(containers || reason)}` };
  }
  if (OOM.test(text) || (task.containers ?? []).some((c) => c.exitCode === 137 && OOM.test(c.reason ?? ''))) {
    return { code: 'OUT_OF_MEMORY', message: `the container was killed for exceeding its memory: ${firstLine(containers || reason)}` };
  }
  if (HEALTH.test(reason)) {
    return { code: 'HEALTH_CHECK_FAILED', message: `the task failed its health checks: ${firstLine(reason)}` };
  }
  // a container that exited on its own says why, not one the task's stop then killed (143/137)
  const nonZero = (task.containers ?? []).filter((c) => typeof c.exitCode === 'number' && c.exitCode !== 0);
  const exited = nonZero.find((c) => !STOP_SIGNAL_EXIT_CODES.includes(c.exitCode!)) ?? nonZero[0];
  if (exited) {
    return {
      code: 'TASK_EXITED',
      message: `${containerWords(exited.name)} exited with exit code ${exited.exitCode}${exited.reason ? ` (${firstLine(exited.reason)})` : ''}`,
    };
  }
  if (task.stopCode === 'EssentialContainerExited') {
    const code = (task.containers ?? []).find((c) => typeof c.exitCode === 'number')?.exitCode;
    return { code: 'TASK_EXITED', message: `the container exited${code === undefined ? '' : ` with exit code ${code}`}: ${firstLine(reason)}` };
  }
  if (SECRET.test(text)) {
    // AWS's text names the execution role and the secret's ARN: plain words instead (the Lambda logs the task)
    return { code: 'TASK_EXITED', message: 'the task failed to start: its secrets or registry credentials could not be read (does each secret exist in the repository\'s namespace?)' };
  }
  if (task.stopCode === 'TaskFailedToStart') {
    return { code: 'TASK_EXITED', message: `the task failed to start: ${firstLine(reason || containers)}` };
  }
  return undefined;
}

/** `the container` (the app's), or `the sidecar db` (a name the spec gave: no AWS text). */
function containerWords(name: string | undefined): string {
  return name && name !== APP_CONTAINER ? `the sidecar ${publicText(name)}` : 'the container';
}

/** Errors Fledge raises itself, with causes it words itself (no AWS text): their cause is shown. */
/** The error RecordHookRun throws for a failed hook (its message is the operation's). */
export const HOOK_FAILED_ERROR = 'HookFailed';

const OWN_ERRORS = new Set(['NotSteady', 'HealBoundReached', 'ServiceStillDraining', 'ServiceNotFound']);

const LIMIT_ERRORS = /Throttl|TooMany|LimitExceeded|RequestLimitExceeded|Rate exceeded|ProvisionedThroughputExceeded/i;

/** Classifies an error from the workflow alone (no task evidence). */
export function classifyWorkflowError(error: WorkflowError | undefined): OperationError {
  const name = error?.Error ?? '';
  const cause = causeMessage(error?.Cause);
  if (name === 'States.Timeout' || name === 'States.HeartbeatTimeout') {
    return { code: 'TIMEOUT', message: 'the environment did not become steady before the workflow timed out' };
  }
  if (name === 'LoadBalancersFull') {
    // every open load balancer of the pool holds its 99 environments (functions/domain/shards.ts): Fledge's words, no AWS text
    return { code: 'QUOTA_EXCEEDED', message: cause || 'the installation\'s load balancers are full' };
  }
  if (LIMIT_ERRORS.test(name) || LIMIT_ERRORS.test(cause)) {
    const safeName = publicErrorName(name);
    return { code: 'AWS_LIMIT', message: `an AWS limit was hit and retries did not get past it${safeName ? ` (${safeName})` : ''}` };
  }
  if (name === 'DeploymentFailed' || name === 'DeploymentRolledBack' || name === 'TaskStartImpaired') {
    // ECS's own reason ("ECS deployment circuit breaker: tasks failed to start."), without ARNs
    return { code: 'INTERNAL', message: `the deployment failed: ${cause || name}` };
  }
  if (name === DNS_NAME_IN_USE_ERROR) {
    // PlanResources (the zone holds another record at the name) or the create's RecheckDnsRecord (CREATE refused: one appeared since): Fledge's words
    return { code: 'DNS_NAME_IN_USE', message: cause || dnsNameInUseMessage() };
  }
  if (OWN_ERRORS.has(name)) return { code: 'INTERNAL', message: `${name}${cause ? `: ${cause}` : ''}` };
  // an AWS call's Cause is AWS's prose (request ids, ARNs, role names), and so is an SDK error a
  // task Lambda let through: never quoted; FailOperation logs it (docs/security.md "What reaches callers")
  return { code: 'INTERNAL', message: workflowStepFailure(error) };
}

/** Task evidence first (it says what the app did), then the workflow's own error. */
export function classifyFailure(error: WorkflowError | undefined, stoppedTasks: StoppedTask[]): OperationError {
  // a hook's own failure: RecordHookRun worded it (no AWS text), and the service's tasks are not why
  if (error?.Error === HOOK_FAILED_ERROR) return { code: 'HOOK_FAILED', message: causeMessage(error.Cause) || 'a hook failed' };
  const newestFirst = [...stoppedTasks].sort((a, b) => time(b.stoppedAt) - time(a.stoppedAt));
  const counts = new Map<ErrorCode, { count: number; error: OperationError }>();
  for (const task of newestFirst) {
    const classified = classifyStoppedTask(task);
    if (!classified) continue;
    const entry = counts.get(classified.code);
    if (entry) entry.count++;
    else counts.set(classified.code, { count: 1, error: classified });
  }
  if (counts.size > 0) {
    // the most frequent reason among the failed tasks; ties go to the newest
    let best: { count: number; error: OperationError } | undefined;
    for (const entry of counts.values()) if (!best || entry.count > best.count) best = entry;
    return best!.error;
  }
  return classifyWorkflowError(error);
}

/** A Lambda error's Cause is JSON (`{"errorMessage": ...}`); an AWS error's is prose. */
export function causeMessage(cause: string | undefined): string {
  if (!cause) return '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (parsed && typeof parsed.errorMessage === 'string') return publicText(parsed.errorMessage);
  } catch {
    // prose
  }
  return firstLine(cause);
}

/** The first line of AWS's text, ARNs cut down to their resource and account ids masked (public-text.ts). */
function firstLine(text: string): string {
  return publicText(text);
}

function time(value: string | Date | undefined): number {
  if (!value) return 0;
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? 0 : ms;
}

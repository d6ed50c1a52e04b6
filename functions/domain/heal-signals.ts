/**
 * Which EventBridge events mean "an environment needs healing" (README "Self-healing": triggered by
 * alarms, ECS events), pure. Two shapes:
 *  - "CloudWatch Alarm State Change" of a per-environment alarm (`fledge-<installation>-<name>-<kind>`)
 *    entering ALARM;
 *  - ECS events of the Fledge cluster: "ECS Service Action" SERVICE_TASK_START_IMPAIRED,
 *    "ECS Deployment State Change" SERVICE_DEPLOYMENT_FAILED, and "ECS Task State Change" of a
 *    service task that STOPPED with an error (failed to start, an essential container exited
 *    with a non-zero code, failed health checks).
 * ECS names the service in different places depending on the event: the service ARN in
 * `resources` (service and deployment events), `detail.group` = `service:<name>` (task
 * events), or `detail.serviceName`; all are read. The service name is the environment name.
 */
import { parseAlarmName } from './alarms.ts';
import { publicText } from './public-text.ts';

export interface BusEvent {
  id?: string;
  'detail-type'?: string;
  source?: string;
  time?: string;
  resources?: string[];
  detail?: Record<string, unknown>;
}

export interface HealSignal {
  environment: string;
  source: 'alarm' | 'ecs';
  /** the alarm name, or the ECS event (SERVICE_TASK_START_IMPAIRED, SERVICE_DEPLOYMENT_FAILED, TASK_STOPPED) */
  signal: string;
  reason?: string;
  eventId?: string;
  /** when it happened (the event's `time`): an ECS failure older than the end of the last operation was that operation's to handle */
  at?: string;
}

export type Parsed = { signal: HealSignal } | { ignored: string };

/** `arn:aws:ecs:<region>:<account>:service/<cluster>/<name>` (or the old `service/<name>`). */
export function serviceNameOfArn(arn: string): string | undefined {
  return /:service\/(?:[^/]+\/)?([^/]+)$/.exec(arn)?.[1];
}

/** The service an ECS event is about, from whichever field carries it. */
export function serviceNameOf(event: BusEvent): string | undefined {
  const detail = event.detail ?? {};
  if (typeof detail.serviceName === 'string' && detail.serviceName) return detail.serviceName;
  for (const arn of event.resources ?? []) {
    const name = arn.includes(':service/') ? serviceNameOfArn(arn) : undefined;
    if (name) return name;
  }
  const group = typeof detail.group === 'string' ? /^service:(.+)$/.exec(detail.group)?.[1] : undefined;
  return group;
}

interface TaskContainer {
  name?: string;
  exitCode?: number;
  reason?: string;
}

/**
 * Why a stopped task counts as a failure, or undefined when it stopped normally; in public
 * words (ECS's reason with its ARNs cut to their resource: it reaches events).
 */
export function taskFailure(detail: Record<string, unknown>): string | undefined {
  const reason = rawTaskFailure(detail);
  return reason === undefined ? undefined : publicText(reason);
}

function rawTaskFailure(detail: Record<string, unknown>): string | undefined {
  if (detail.lastStatus !== 'STOPPED') return undefined;
  const stopCode = String(detail.stopCode ?? '');
  const reason = String(detail.stoppedReason ?? '');
  const containers = (detail.containers as TaskContainer[] | undefined) ?? [];
  if (stopCode === 'TaskFailedToStart') return reason || 'the task failed to start';
  if (/health checks?/i.test(reason) && /fail/i.test(reason)) return reason;
  if (stopCode === 'EssentialContainerExited') {
    const failed = containers.find((c) => c.exitCode !== undefined && c.exitCode !== null && c.exitCode !== 0);
    if (failed) return `${reason || 'essential container exited'} (exit code ${failed.exitCode}${failed.reason ? `: ${failed.reason}` : ''})`;
    if (containers.some((c) => /OutOfMemory/i.test(c.reason ?? ''))) return `${reason} (out of memory)`;
  }
  return undefined;
}

/**
 * The heal signal an event carries, or why it is none. `clusterArn` (when given) must match
 * the event's cluster: events of other clusters in the account are not ours. Alarms count only
 * when named for `installationId` (`fledge-<installation>-<name>-<kind>`): another
 * installation's alarms in the same account are not ours either.
 */
export function parseHealSignal(event: BusEvent, clusterArn?: string, installationId?: string): Parsed {
  const detailType = event['detail-type'] ?? '';
  const detail = event.detail ?? {};
  if (event.source === 'aws.cloudwatch' && detailType === 'CloudWatch Alarm State Change') {
    const alarm = String(detail.alarmName ?? '');
    const parsed = installationId ? parseAlarmName(alarm, installationId) : undefined;
    if (!parsed) return { ignored: `alarm ${alarm || '(unnamed)'} is not a Fledge environment alarm of this installation` };
    const state = (detail.state ?? {}) as { value?: string; reason?: string };
    if (state.value !== 'ALARM') return { ignored: `alarm ${alarm} went to ${state.value ?? 'an unknown state'}` };
    return { signal: { environment: parsed.environment, source: 'alarm', signal: alarm, reason: state.reason === undefined ? undefined : publicText(state.reason), eventId: event.id } };
  }
  if (event.source !== 'aws.ecs') return { ignored: `events of ${event.source ?? 'an unknown source'} are not heal signals` };
  if (clusterArn && typeof detail.clusterArn === 'string' && detail.clusterArn !== clusterArn) {
    return { ignored: `an event of another cluster (${detail.clusterArn})` };
  }
  // deployment events carry no clusterArn: the cluster is in the service ARN (`service/<cluster>/<name>`)
  const ourCluster = clusterArn?.split('/').at(-1);
  const otherCluster = (event.resources ?? [])
    .map((arn) => /:service\/([^/]+)\/[^/]+$/.exec(arn)?.[1])
    .find((cluster) => cluster !== undefined && ourCluster !== undefined && cluster !== ourCluster);
  if (otherCluster) return { ignored: `an event of another cluster (${otherCluster})` };
  const name = serviceNameOf(event);
  let signal: string | undefined;
  let reason: string | undefined;
  if (detailType === 'ECS Service Action' && detail.eventName === 'SERVICE_TASK_START_IMPAIRED') {
    signal = 'SERVICE_TASK_START_IMPAIRED';
    reason = typeof detail.reason === 'string' ? detail.reason : 'ECS is unable to consistently start tasks successfully';
  } else if (detailType === 'ECS Deployment State Change' && detail.eventName === 'SERVICE_DEPLOYMENT_FAILED') {
    signal = 'SERVICE_DEPLOYMENT_FAILED';
    reason = typeof detail.reason === 'string' ? detail.reason : 'the deployment failed';
  } else if (detailType === 'ECS Task State Change') {
    const failure = taskFailure(detail);
    if (!failure) return { ignored: 'a task state change that is not a failed stop' };
    signal = 'TASK_STOPPED';
    reason = failure;
  } else {
    return { ignored: `ECS ${detailType} ${String(detail.eventName ?? '')} is not a heal signal`.trim() };
  }
  if (!name) return { ignored: `ECS ${signal} names no service` };
  return { signal: { environment: name, source: 'ecs', signal, reason: reason === undefined ? undefined : publicText(reason), eventId: event.id, ...(event.time ? { at: event.time } : {}) } };
}

/**
 * Event ids seen recently (EventBridge delivers at least once, and an ECS event may come
 * twice): a second delivery within `windowMs` is a duplicate. Per Lambda container; the
 * conditional write that starts a heal is what really keeps a heal from starting twice.
 */
export class RecentEvents {
  private readonly seen = new Map<string, number>();

  constructor(private readonly windowMs = 10 * 60_000, private readonly max = 5000) {}

  /** true the first time `key` is seen within the window */
  firstTime(key: string, now = Date.now()): boolean {
    for (const [k, at] of this.seen) {
      if (now - at < this.windowMs && this.seen.size <= this.max) break;
      this.seen.delete(k);
    }
    const at = this.seen.get(key);
    if (at !== undefined && now - at < this.windowMs) return false;
    this.seen.set(key, now);
    return true;
  }
}

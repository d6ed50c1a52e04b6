/**
 * Self-healing rules (README "Self-healing"), pure: the bound on heals (how many per hour, how long
 * to wait between them), when a signal may start a heal, and what a heal repairs given what
 * it found. The heal workflow (statemachines/heal.asl.json), its task Lambdas, the trigger
 * and the heal route all decide through here.
 *
 * Bound. A heal *attempt* is a reconcile pass that changed something in AWS; its time is
 * kept on the environment (`healAttempts`, the last hour's). After attempt n fails (the
 * repair did not bring the environment back to steady and healthy), the heal waits
 * backoff·2^(n-1) — 30 s, 60 s, 120 s by default — and inspects again; with no attempt left
 * (FLEDGE_HEAL_MAX_PER_HOUR, default 3, in the last hour) and something still broken, the
 * environment goes DEGRADED and a notification is published. A pass that finds nothing to
 * repair changes nothing and is not an attempt. A manual heal, and the first heal after an
 * operation that was not a heal (an update, a scale), start a fresh count.
 */
import type { AlarmKind } from './alarms.ts';
import { dnsChangeFor, type DnsRecordState } from './dns-records.ts';
import type { EnvironmentSpec } from './environment-spec.ts';
import type { EnvironmentRecord } from './environment.ts';
import type { Status } from './lifecycle.ts';

/** What started a heal; carried in the workflow input and the first event. */
export interface HealTrigger {
  source: 'api' | 'alarm' | 'ecs';
  /** alarm name, or the ECS event name (SERVICE_TASK_START_IMPAIRED, TASK_STOPPED...) */
  signal?: string;
  reason?: string;
  /** EventBridge event id */
  eventId?: string;
  /** when the signal happened (the event's time) */
  at?: string;
}

export interface HealPolicy {
  maxPerHour: number;
  /** the wait after the first failed attempt (doubled after each further one), seconds */
  backoffSeconds: number;
  windowMs: number;
}

/** The attempts (ISO times) within the window ending at `now`, oldest first. */
export function attemptsInWindow(attempts: readonly string[] | undefined, now: number, windowMs: number): string[] {
  return (attempts ?? []).filter((at) => now - Date.parse(at) < windowMs).sort();
}

/** Seconds to wait after the n-th attempt (n >= 1): backoff, 2·backoff, 4·backoff... (whole seconds, as Wait states need). */
export function backoffAfter(n: number, policy: Pick<HealPolicy, 'backoffSeconds'>): number {
  return Math.max(1, Math.ceil(policy.backoffSeconds * 2 ** Math.max(0, n - 1)));
}

/** Seconds left before another heal may act: the backoff after the last attempt, minus what has passed. */
export function remainingBackoff(attempts: readonly string[] | undefined, now: number, policy: HealPolicy): number {
  const recent = attemptsInWindow(attempts, now, policy.windowMs);
  if (recent.length === 0) return 0;
  const last = Date.parse(recent.at(-1)!);
  const until = last + backoffAfter(recent.length, policy) * 1000;
  return Math.max(0, Math.ceil((until - now) / 1000));
}

/** Statuses a manual heal (`POST /heal`) may start from. */
export function acceptsHeal(status: Status): boolean {
  return status === 'RUNNING' || status === 'DEGRADED';
}

export type TriggerDecision = { start: true } | { start: false; reason: string };

/**
 * Whether an alarm or ECS signal starts a heal: only a RUNNING environment is healed
 * automatically (never one being deleted, one with another operation in flight, a DEGRADED
 * one — it waits for an update, a manual heal or a scale — a sleeping or a failed one), and
 * not within the backoff after its last heal.
 */
export function decideTriggeredHeal(
  record: Pick<EnvironmentRecord, 'status' | 'healAttempts' | 'operation'> | undefined,
  now: number,
  policy: HealPolicy,
  signal?: { source: 'alarm' | 'ecs'; at?: string },
): TriggerDecision {
  if (!record) return { start: false, reason: 'no such environment' };
  // An ECS failure (a deployment the circuit breaker stopped, a task that failed to start)
  // that happened before the last operation ended was that operation's: an update rolled back
  // on it, a create failed on it. Healing it again would spend a heal and hide the operation's
  // outcome. Alarms are not dropped so: an alarm in ALARM fires once, and only a heal re-arms it.
  const finished = record.operation?.finishedAt ? Date.parse(record.operation.finishedAt) : Number.NaN;
  const happened = signal?.at ? Date.parse(signal.at) : Number.NaN;
  if (signal?.source === 'ecs' && happened <= finished) {
    return { start: false, reason: `the ECS event (${signal.at}) predates the end of the last ${record.operation?.type ?? ''} operation, which handled it` };
  }
  const { status } = record;
  if (status === 'DELETING' || status === 'DELETED') return { start: false, reason: `the environment is ${status}` };
  if (status === 'DEGRADED') return { start: false, reason: 'the environment is DEGRADED: alarms start no heal until an update, a manual heal or a scale' };
  if (status !== 'RUNNING') return { start: false, reason: `the environment is ${status}` };
  const attempts = countsFromLastHeal(record) ? record.healAttempts : [];
  const wait = remainingBackoff(attempts, now, policy);
  // An alarm that goes off within the backoff is not dropped: it fires once and stays in ALARM (one
  // state-change event per change: Amazon CloudWatch User Guide, "Using Amazon CloudWatch alarms"), so
  // nothing would start a heal after the backoff. The heal starts now and waits the backoff out
  // itself (WaitBackoff) before it acts. ECS failures repeat while tasks keep failing: those wait.
  if (wait > 0 && signal?.source !== 'alarm') return { start: false, reason: `within the backoff after the last heal (${wait} s left)` };
  return { start: true };
}

/** Heal attempts count toward the bound only while heals follow heals: an update or a scale in between starts afresh. */
export function countsFromLastHeal(record: Pick<EnvironmentRecord, 'operation'>): boolean {
  return record.operation?.type === 'heal';
}

// ---- what a heal finds, and what it repairs ------------------------------------------------

export interface ServiceFinding {
  arn: string;
  status: string;
  desiredCount: number;
  runningCount: number;
  pendingCount: number;
  taskDefinitionArn: string;
  image?: string;
  /** deployments of the service (1 when settled) */
  deployments: number;
  /** rollout state of the PRIMARY deployment */
  rolloutState?: string;
  /** target groups the service registers its tasks in */
  targetGroupArns: string[];
}

/** A target group's health check, in the spec's terms (EnvironmentSpec.healthCheck). */
export interface HealthCheckFinding {
  path: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
}

export interface Findings {
  /** the ECS service, when ACTIVE */
  service: ServiceFinding | null;
  /** the service was deleted and is still draining (a new one of that name cannot be created yet) */
  serviceDraining: boolean;
  targetGroupArn: string | null;
  /** the target group's health check (null when there is no target group; absent: not inspected) */
  targetGroupHealthCheck?: HealthCheckFinding | null;
  rule: { arn: string; targetGroupArns: string[] } | null;
  targets: { healthy: number; unhealthy: number; other: number };
  alarms: Record<AlarmKind, 'ok' | 'missing' | 'drifted'>;
  /** the alarms CloudWatch holds in ALARM (state, not definition) */
  alarmsInAlarm?: AlarmKind[];
  /** tasks of the current task definition that stopped with an error recently */
  failures: { count: number; keepsFailing: boolean; latestReason?: string };
  /**
   * the environment's alias record (absent: per-environment DNS is off, nothing to inspect; docs/design.md "DNS per environment");
   * `taken`: a record Fledge does not manage holds the name, left alone
   */
  dnsRecord?: DnsRecordState;
}

export interface DesiredState {
  spec: Pick<EnvironmentSpec, 'image' | 'desiredCount' | 'autoscaling'> & { healthCheck?: EnvironmentSpec['healthCheck'] };
  lastHealthyImage?: string;
  /** newest first */
  healthyImages?: string[];
}

export type RepairKind =
  | 'wait-for-drain'
  | 'recreate-target-group'
  | 'update-health-check'
  | 'recreate-listener-rule'
  | 'recreate-service'
  | 'roll-back'
  | 'redeploy-spec-image'
  | 'restore-desired-count'
  | 'attach-target-group'
  | 'force-new-deployment'
  | 'recreate-alarm'
  | 'update-alarm'
  | 'recreate-dns-record';

export interface RepairAction {
  repair: RepairKind;
  /** what the heal found */
  found: string;
  /** what it does about it */
  action: string;
}

/** Flags the heal ASL's NextRepair choice reads (each repair state runs at most once per pass). */
export interface Todo {
  waitForDrain: boolean;
  targetGroup: boolean;
  /** ModifyTargetGroup: the target group's health check back to the spec's */
  healthCheck: boolean;
  rule: boolean;
  /** RepairDnsRecord: the environment's alias record back, naming its shard's ALB */
  dnsRecord: boolean;
  /** RepairDnsRecord's change: CREATE a missing record, UPSERT (re-point) only Fledge's own record naming another ALB */
  dnsChange?: 'CREATE' | 'UPSERT';
  taskDefinition: boolean;
  createService: boolean;
  updateService: boolean;
  desiredCount: number;
  forceNewDeployment: boolean;
  alarms: { tasks: boolean; unhealthy: boolean; errors: boolean };
  waitSteady: boolean;
  /**
   * how AwaitSteadyState reads a failed deployment: `create` (a new service), `update` (a
   * new deployment: the circuit breaker decides), `scale` (only the count: no deployment, so
   * tasks failing to start end the wait at once)
   */
  phase: 'create' | 'update' | 'scale';
}

export interface RepairPlan {
  todo: Todo;
  actions: RepairAction[];
  /** true when something in AWS changes (an attempt, counted against the bound) */
  mutates: boolean;
  /** the image of the task definition registered by this pass (recreate, roll back) */
  image?: string;
  /** the image rolled back from */
  rollbackFrom?: string;
}

/** Stopped tasks of the current image with an error, this many, of which one started after an earlier one failed: "keeps failing". */
export const ROLLBACK_MIN_FAILURES = 2;

/** The desired count the service should have: the spec's, or — with autoscaling — the current one moved into min..max. */
export function expectedDesiredCount(spec: DesiredState['spec'], actual: number | undefined): number {
  if (!spec.autoscaling || spec.desiredCount === 0) return spec.desiredCount;
  const current = actual ?? spec.desiredCount;
  return Math.min(Math.max(current, spec.autoscaling.minCount), spec.autoscaling.maxCount);
}

/** The image a heal rolls back to: the newest healthy one that differs from the failing one. */
export function rollbackImage(desired: DesiredState, failing: string | undefined): string | undefined {
  if (!failing) return undefined;
  return (desired.healthyImages ?? (desired.lastHealthyImage ? [desired.lastHealthyImage] : [])).find((image) => image !== failing);
}

function noTodo(): Todo {
  return {
    waitForDrain: false, targetGroup: false, healthCheck: false, rule: false, dnsRecord: false, taskDefinition: false, createService: false, updateService: false,
    desiredCount: 0, forceNewDeployment: false, alarms: { tasks: false, unhealthy: false, errors: false }, waitSteady: false,
    phase: 'update',
  };
}

/** Compares what exists with what should, and says what to repair (nothing: a healthy environment). */
export function planRepairs(found: Findings, desired: DesiredState): RepairPlan {
  const todo = noTodo();
  const actions: RepairAction[] = [];
  const add = (repair: RepairKind, what: string, action: string) => actions.push({ repair, found: what, action });

  if (found.serviceDraining) {
    todo.waitForDrain = true;
    add('wait-for-drain', 'the service was deleted and is still draining', 'wait until it is gone, then inspect again');
    return { todo, actions, mutates: false };
  }

  let image: string | undefined;
  let rollbackFrom: string | undefined;
  const service = found.service;
  todo.desiredCount = expectedDesiredCount(desired.spec, service?.desiredCount);

  if (!found.targetGroupArn) {
    todo.targetGroup = true;
    add('recreate-target-group', 'the target group is missing', 'create it again from the spec (port and health check)');
  }
  const drift = healthCheckDrift(found.targetGroupHealthCheck, desired.spec.healthCheck);
  if (found.targetGroupArn && drift) {
    todo.healthCheck = true;
    add('update-health-check', `the target group's health check differs from the spec (${drift})`, 'set it back to the spec\'s (ModifyTargetGroup)');
  }
  if (!found.rule) {
    todo.rule = true;
    add('recreate-listener-rule', 'the listener rule is missing', 'create it again at the environment\'s listener priority');
  }
  // a name `taken` by a record Fledge does not manage is never written over: FinishHeal's event says so
  if (found.dnsRecord === 'missing' || found.dnsRecord === 'drifted') {
    todo.dnsRecord = true;
    todo.dnsChange = dnsChangeFor(found.dnsRecord);
    add(
      'recreate-dns-record',
      found.dnsRecord === 'missing' ? 'the DNS record is missing' : 'the DNS record names another of Fledge\'s load balancers',
      found.dnsRecord === 'missing' ? 'create it again, naming the environment\'s load balancer (CREATE)' : 'point it at the environment\'s load balancer again (UPSERT)',
    );
  }

  if (!service) {
    image = desired.lastHealthyImage ?? desired.spec.image;
    todo.taskDefinition = true;
    todo.createService = true;
    todo.phase = 'create';
    add('recreate-service', 'the ECS service is missing', `create it again with ${image} and ${todo.desiredCount} task(s)`);
  } else {
    const failing = found.failures.keepsFailing && found.failures.count >= ROLLBACK_MIN_FAILURES ? service.image : undefined;
    const target = rollbackImage(desired, failing);
    const drifted = service.desiredCount !== todo.desiredCount;
    const detached = !found.targetGroupArn || !service.targetGroupArns.includes(found.targetGroupArn);
    // without its rule a target group is unused: its targets' health says nothing until the rule is back
    const judged = found.rule !== null && found.targetGroupArn !== null;
    const unhealthy =
      todo.desiredCount > 0 &&
      ((judged && found.targets.healthy < service.desiredCount) || service.runningCount < service.desiredCount || service.rolloutState === 'FAILED');
    if (target) {
      image = target;
      rollbackFrom = service.image;
      todo.taskDefinition = true;
      todo.updateService = true;
      add(
        'roll-back',
        `tasks of ${service.image} keep failing (${found.failures.count} stopped with an error${found.failures.latestReason ? `, last: ${found.failures.latestReason}` : ''})`,
        `roll back to ${target}, the newest image that ran healthy before`,
      );
    }
    const redeploy = !target && service.image !== undefined && service.image !== desired.spec.image;
    if (redeploy) {
      // deployed behind Fledge's back (or a deploy that was lost): the spec is what the environment runs
      image = desired.spec.image;
      todo.taskDefinition = true;
      todo.updateService = true;
      add('redeploy-spec-image', `the service runs ${service.image}, the spec says ${desired.spec.image}`, `deploy ${desired.spec.image} again`);
    }
    if (drifted) {
      todo.updateService = true;
      add('restore-desired-count', `the desired count is ${service.desiredCount}, the spec wants ${todo.desiredCount}`, `set it back to ${todo.desiredCount}`);
    }
    if (detached) {
      todo.updateService = true;
      todo.forceNewDeployment = true;
      add('attach-target-group', 'the service does not register its tasks in the environment\'s target group', 'point the service at it and start a new deployment');
    } else if (!target && !redeploy && !drifted && unhealthy) {
      todo.updateService = true;
      todo.forceNewDeployment = true;
      add(
        'force-new-deployment',
        `${found.targets.healthy} of ${service.desiredCount} task(s) healthy (${service.runningCount} running${found.failures.count ? `, ${found.failures.count} stopped with an error` : ''})`,
        'start a new deployment (fresh tasks)',
      );
    }
  }

  const kinds = [['tasks', 'tasks'], ['unhealthy', 'unhealthy'], ['5xx', 'errors']] as const;
  for (const [kind, flag] of kinds) {
    const state = found.alarms[kind];
    // alarms on the target group follow a recreated target group
    const stale = flag !== 'tasks' && todo.targetGroup;
    if (state === 'ok' && !stale) continue;
    todo.alarms[flag] = true;
    if (state === 'missing') add('recreate-alarm', `the ${kind} alarm is missing`, 'create it again');
    else add('update-alarm', `the ${kind} alarm does not match the spec${stale ? ' (its target group is new)' : ''}`, 'put it again as the spec wants it');
  }

  todo.waitSteady = todo.createService || todo.updateService;
  if (todo.updateService && !todo.forceNewDeployment && !todo.taskDefinition) todo.phase = 'scale';
  return { todo, actions, mutates: actions.length > 0, ...(image ? { image } : {}), ...(rollbackFrom ? { rollbackFrom } : {}) };
}

/** What of the target group's health check differs from the spec's (`path: /a -> /b, ...`), or undefined. */
export function healthCheckDrift(found: HealthCheckFinding | null | undefined, wanted: EnvironmentSpec['healthCheck'] | undefined): string | undefined {
  if (!found || !wanted) return undefined;
  const keys = ['path', 'intervalSeconds', 'timeoutSeconds', 'healthyThreshold', 'unhealthyThreshold'] as const;
  const differing = keys.filter((key) => found[key] !== wanted[key]).map((key) => `${key}: ${found[key]} -> ${wanted[key]}`);
  return differing.length ? differing.join(', ') : undefined;
}

/** The healthy-image history after a heal: a rollback puts the restored image first and forgets the failing one. */
export function healthyImagesAfterHeal(history: readonly string[] | undefined, healthy: string, failing?: string, max = 5): string[] {
  return [healthy, ...(history ?? []).filter((image) => image !== healthy && image !== failing)].slice(0, max);
}

/** What the simulated services share: configuration, the clock, the event bus, each other. */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Clock } from './clock.ts';
import type { SimService } from './errors.ts';

export interface SimLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: SimLogger = { debug() {}, info() {}, warn() {}, error() {} };

export interface SimConfig {
  region: string;
  accountId: string;
  clusterName: string;
  /** the pool's load balancers are `<loadBalancerName>-s1`, `-s2`, ... */
  loadBalancerName: string;
  vpcId: string;
  /** time from RunTask to RUNNING (FLEDGE_SIM_TASK_START_MS) */
  taskStartMs: number;
  /** time from STOPPING to STOPPED (connection draining, container stop) */
  taskStopMs: number;
  /** the simulated ALB probes every target this often, whatever the target group says */
  healthCheckIntervalMs: number;
  /** one CloudWatch alarm period, whatever the alarm's Period says */
  alarmPeriodMs: number;
  /** how long DescribeTasks/ListTasks still return a STOPPED task (AWS: at least 1 h) */
  stoppedTaskRetentionMs: number;
  /** how long an INACTIVE service stays describable */
  inactiveServiceRetentionMs: number;
  /** how long a deleted service stays DRAINING before it turns INACTIVE (at least until its tasks stopped) */
  drainMs: number;
  /** unique target groups each simulated ALB may use in its rules (AWS: 100 per ALB, not adjustable) */
  maxTargetGroups: number;
  /** target groups in the account and region (AWS quota: 3000) */
  maxTargetGroupsPerRegion: number;
  /** listener rules on each ALB, not counting the default rule (AWS quota: 100) */
  maxRules: number;
  /** targets registered in the target groups each ALB's rules use (AWS quota: 1,000 per ALB, adjustable) */
  maxTargetsPerLoadBalancer: number;
  /** Application Load Balancers in the account and region (AWS quota: 50) */
  maxLoadBalancersPerRegion: number;
  /** the seed of the simulator's pseudo-random choices (FLEDGE_SIM_SEED): hostile mode replays with it */
  seed: number;
}

/**
 * Hostile mode (FLEDGE_SIM_HOSTILE=1, or the `hostile` fault): AWS at its worst. The rates
 * are per event / per call; the times are simulator milliseconds (infra/local/README.md).
 */
export interface HostileRates {
  /** share of EventBridge events never delivered (EventBridge: delivery is best effort, rules may miss events) */
  eventDropRate: number;
  /** share of events delivered twice (EventBridge: "at least once") */
  eventDuplicateRate: number;
  /** each delivery is delayed by 0..this (so events arrive out of order) */
  eventMaxDelayMs: number;
  /** DescribeServices, DescribeTasks, ListTasks, DescribeTargetHealth answer a snapshot up to this old (eventual consistency) */
  staleReadMs: number;
  /** SERVICE_STEADY_STATE is re-sent this often while a service stays steady */
  steadyStateEveryMs: number;
  /** share of calls throttled regardless of the token buckets (other callers of the account) */
  throttleRate: number;
}

export interface HostileState {
  enabled: boolean;
  rates: HostileRates;
}

/** An EventBridge event as AWS delivers it. */
export interface SimEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

export type Tag = { key: string; value: string };

export const ENV_TAG = 'fledge:environment';

export interface SimContext {
  config: SimConfig;
  clock: Clock;
  log: SimLogger;
  /** hostile mode, switchable at run time */
  hostile: HostileState;
  /** the seeded pseudo-random numbers in [0, 1) every hostile choice is made with */
  random(): number;
  emit(detailType: string, source: string, resources: string[], detail: Record<string, unknown>): void;
  isoNow(): string;
  arn(service: 'ecs' | 'elasticloadbalancing' | 'cloudwatch' | 'application-autoscaling', resource: string): string;
  /** set by stop(): timers and listeners do nothing any more */
  stopped: boolean;
}

/** mulberry32: a small seeded PRNG, so a hostile run can be replayed with its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const hex = (bytes: number) => randomBytes(bytes).toString('hex');
export const uuid = () => randomUUID();

/** A 19-digit number like ECS deployment ids (`ecs-svc/1234567890123456789`). */
export function digits(n: number): string {
  let out = String(1 + Math.floor(Math.random() * 9));
  while (out.length < n) out += String(Math.floor(Math.random() * 10));
  return out;
}

export function tagsFromList(list: { key?: string; value?: string; Key?: string; Value?: string }[] | undefined): Map<string, string> {
  const tags = new Map<string, string>();
  for (const tag of list ?? []) {
    const key = tag.key ?? tag.Key;
    if (key !== undefined) tags.set(key, tag.value ?? tag.Value ?? '');
  }
  return tags;
}

export const ecsTagList = (tags: Map<string, string>) => [...tags].map(([key, value]) => ({ key, value }));
export const pascalTagList = (tags: Map<string, string>) => [...tags].map(([Key, Value]) => ({ Key, Value }));

export type { SimService };

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
  /** target groups the one simulated ALB may use (AWS quota: 100 per ALB) */
  maxTargetGroups: number;
  /** listener rules on the ALB, not counting the default rule (AWS quota: 100) */
  maxRules: number;
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
  emit(detailType: string, source: string, resources: string[], detail: Record<string, unknown>): void;
  isoNow(): string;
  arn(service: 'ecs' | 'elasticloadbalancing' | 'cloudwatch' | 'application-autoscaling', resource: string): string;
  /** set by stop(): timers and listeners do nothing any more */
  stopped: boolean;
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

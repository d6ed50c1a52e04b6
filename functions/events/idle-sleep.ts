/**
 * Idle sleep (scheduled: EventBridge Scheduler on AWS, a timer in local mode): environments
 * that answered no request for FLEDGE_IDLE_SLEEP_AFTER (operator setting, e.g. `2h`; off when
 * unset or `off`) are put to sleep, actor `schedule`. A request to a sleeping environment's
 * URL wakes it again (functions/events/waker.ts).
 *
 * Reads only RUNNING environments (the status index, never a Scan), skips those labelled
 * `fledge.dev/no-sleep: "true"` and those that have not been up that long (just created, just
 * woken), then asks CloudWatch for the ALB RequestCount of their target groups over the idle
 * period in one GetMetricData call per 500 environments (an ALB publishes nothing for a
 * minute without requests: no datapoints means no requests). The sleep is conditional on
 * the version read, so a deploy or a wake that happens meanwhile wins.
 */
import { DescribeTargetGroupsCommand, type TargetGroup } from '@aws-sdk/client-elastic-load-balancing-v2';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logger, metrics } from '#runtime/powertools.ts';
import { idleSleepAfterMs, runtimeConfig } from '#runtime/config.ts';
import type { EnvironmentRecord } from '#domain/environment.ts';
import { sleepIdleEnvironment } from '#commands/scale-commands.ts';
import { legacyTargetGroupName, targetGroupName } from '#domain/resource-names.ts';
import { mayIdleSleep } from '#domain/scaling.ts';
import { elbv2Client } from '#adapters/clients/elbv2.ts';
import { listEnvironments } from '#adapters/environment-store.ts';
import { requestCounts } from '#adapters/scaling-resources.ts';
import { eventHandler } from '#lambda/event-handler.ts';

export interface IdleSleepReport {
  /** idle sleep is switched off (FLEDGE_IDLE_SLEEP_AFTER unset or `off`) */
  off?: boolean;
  idleAfterMs?: number;
  /** RUNNING environments read */
  running: number;
  /** of those, up long enough and not opted out: their requests were counted */
  candidates: number;
  /** put to sleep now */
  slept: string[];
  /** idle, but not put to sleep (changed meanwhile) */
  skipped: string[];
}

/** `arn:...:listener/app/<lb>/<id>/<l>` -> `arn:...:loadbalancer/app/<lb>/<id>` */
export function loadBalancerArnOf(listenerArn: string): string {
  return listenerArn.replace(/:listener\/((?:app|net)\/[^/]+\/[^/]+)\/[^/]+$/, ':loadbalancer/$1');
}

function describeDuration(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Math.round(ms / 1000)}s`;
}

async function runningEnvironments(): Promise<EnvironmentRecord[]> {
  const out: EnvironmentRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await listEnvironments({ status: 'RUNNING', limit: 100, cursor });
    out.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return out;
}

/** Target groups attached to the shared ALB, by name (functions/domain/resource-names.ts). */
async function targetGroupsByName(loadBalancerArn: string): Promise<Map<string, string>> {
  const byName = new Map<string, string>();
  let marker: string | undefined;
  do {
    const page = await elbv2Client().send(new DescribeTargetGroupsCommand({ LoadBalancerArn: loadBalancerArn, Marker: marker, PageSize: 400 }));
    for (const tg of (page.TargetGroups as TargetGroup[] | undefined) ?? []) {
      if (tg.TargetGroupName && tg.TargetGroupArn) byName.set(tg.TargetGroupName, tg.TargetGroupArn);
    }
    marker = page.NextMarker;
  } while (marker);
  return byName;
}

async function handle(_event?: unknown): Promise<IdleSleepReport> {
  const idleMs = idleSleepAfterMs();
  if (idleMs === undefined) return { off: true, running: 0, candidates: 0, slept: [], skipped: [] };
  const config = runtimeConfig();
  const now = Date.now();
  const running = await runningEnvironments();
  const candidates = running.filter((env) => mayIdleSleep(env, idleMs, now));
  const report: IdleSleepReport = { idleAfterMs: idleMs, running: running.length, candidates: candidates.length, slept: [], skipped: [] };
  if (candidates.length === 0) return report;

  const byName = await targetGroupsByName(loadBalancerArnOf(config.listenerArn));
  // this installation's name, or the environment's own name (environments of earlier versions)
  const targetGroupOf = (name: string) => byName.get(targetGroupName(config.installationId, name)) ?? byName.get(legacyTargetGroupName(name));
  const measured = candidates.filter((env) => targetGroupOf(env.name) !== undefined);
  const counts = await requestCounts(config.listenerArn, measured.map((env) => targetGroupOf(env.name)!), new Date(now - idleMs), new Date(now));
  const idleFor = describeDuration(idleMs);
  for (const env of measured) {
    const requests = counts.get(targetGroupOf(env.name)!) ?? 0;
    if (requests > 0) continue;
    const result = await sleepIdleEnvironment(env.name, env.version, { actor: 'schedule', requestId: `idle-sleep-${now}` }, `no requests for ${idleFor}`);
    (result?.outcome === 'started' ? report.slept : report.skipped).push(env.name);
  }
  if (report.slept.length > 0) {
    metrics.addMetric('IdleSlept', MetricUnit.Count, report.slept.length);
  }
  logger.info('idle sleep ran', { ...report });
  return report;
}

export const handler = eventHandler(handle);

/**
 * Idle sleep (functions/events/idle-sleep.ts runs it on a schedule): RUNNING environments that
 * answered no request for the idle period are put to sleep, actor `schedule`.
 *
 * Reads only RUNNING environments (the status index, never a Scan), skips those labelled
 * `fledge.dev/no-sleep: "true"` and those that have not been up that long (just created, just
 * woken), then asks CloudWatch for the ALB RequestCount of their target groups over the idle
 * period (an ALB publishes nothing for a minute without requests: no datapoints means no
 * requests). The sleep is conditional on the version read, so a deploy or a wake that happens
 * meanwhile wins.
 */
import { everyEnvironment } from '#adapters/environment-store.ts';
import { requestCounts, targetGroupArnsByName } from '#adapters/scaling-resources.ts';
import { runtimeConfig } from '#runtime/config.ts';
import { legacyTargetGroupName, targetGroupName } from '#domain/resource-names.ts';
import { mayIdleSleep } from '#domain/scaling.ts';
import { shardIdOf, shardNamed } from '#domain/shards.ts';
import { scaleUnlessChanged } from './scale-commands.ts';

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

function describeDuration(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Math.round(ms / 1000)}s`;
}

/** Puts to sleep the environments that had no request for `idleMs` before `now`. */
export async function sleepIdleEnvironments(idleMs: number, now = Date.now()): Promise<IdleSleepReport> {
  const config = runtimeConfig();
  const running = await everyEnvironment({ status: 'RUNNING' });
  const candidates = running.filter((env) => mayIdleSleep(env, idleMs, now));
  const report: IdleSleepReport = { idleAfterMs: idleMs, running: running.length, candidates: candidates.length, slept: [], skipped: [] };
  if (candidates.length === 0) return report;

  // per load balancer of the pool: its target groups by name, and their requests (a dimension of its own)
  const measured: { env: (typeof candidates)[number]; targetGroupArn: string }[] = [];
  const counts = new Map<string, number>();
  const byShard = new Map<string, typeof candidates>();
  for (const env of candidates) byShard.set(shardIdOf(env), [...(byShard.get(shardIdOf(env)) ?? []), env]);
  for (const [shardId, onShard] of byShard) {
    const shard = shardNamed(config.shards, shardId);
    const byName = await targetGroupArnsByName(shard.loadBalancerArn);
    // this installation's name, or the environment's own name (environments of earlier versions)
    const found = onShard.flatMap((env) => {
      const targetGroupArn = byName.get(targetGroupName(config.installationId, env.name)) ?? byName.get(legacyTargetGroupName(env.name));
      return targetGroupArn ? [{ env, targetGroupArn }] : [];
    });
    measured.push(...found);
    const shardCounts = await requestCounts(shard.listenerArn, found.map((m) => m.targetGroupArn), new Date(now - idleMs), new Date(now));
    for (const [arn, count] of shardCounts) counts.set(arn, count);
  }
  const reason = `no requests for ${describeDuration(idleMs)}`;
  const caller = { actor: 'schedule', requestId: `idle-sleep-${now}` };
  for (const { env, targetGroupArn } of measured) {
    if ((counts.get(targetGroupArn) ?? 0) > 0) continue;
    // a deploy or a wake since the read wins over the schedule
    const result = await scaleUnlessChanged(env.name, { desiredCount: 0 }, caller, { ifMatch: String(env.version), reason });
    (result?.outcome === 'started' ? report.slept : report.skipped).push(env.name);
  }
  return report;
}

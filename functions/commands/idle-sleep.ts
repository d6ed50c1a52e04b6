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
import { loadBalancerArnOf, requestCounts, targetGroupArnsByName } from '#adapters/scaling-resources.ts';
import { runtimeConfig } from '#runtime/config.ts';
import { legacyTargetGroupName, targetGroupName } from '#domain/resource-names.ts';
import { mayIdleSleep } from '#domain/scaling.ts';
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

  const byName = await targetGroupArnsByName(loadBalancerArnOf(config.listenerArn));
  // this installation's name, or the environment's own name (environments of earlier versions)
  const targetGroupOf = (name: string) => byName.get(targetGroupName(config.installationId, name)) ?? byName.get(legacyTargetGroupName(name));
  const measured = candidates.filter((env) => targetGroupOf(env.name) !== undefined);
  const counts = await requestCounts(config.listenerArn, measured.map((env) => targetGroupOf(env.name)!), new Date(now - idleMs), new Date(now));
  const reason = `no requests for ${describeDuration(idleMs)}`;
  const caller = { actor: 'schedule', requestId: `idle-sleep-${now}` };
  for (const env of measured) {
    if ((counts.get(targetGroupOf(env.name)!) ?? 0) > 0) continue;
    // a deploy or a wake since the read wins over the schedule
    const result = await scaleUnlessChanged(env.name, { desiredCount: 0 }, caller, { ifMatch: String(env.version), reason });
    (result?.outcome === 'started' ? report.slept : report.skipped).push(env.name);
  }
  return report;
}

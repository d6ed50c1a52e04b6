/**
 * Local mode's part of scaling (the AWS side is infra/aws/scaling.ts):
 *  - the waker behind each simulated ALB: a Lambda target group per shard, as on AWS (a target
 *    group serves one load balancer), whose target is functions/events/waker.ts. The scale
 *    workflow points a sleeping environment's listener rule at its shard's
 *    (`$.shard.wakerTargetGroupArn`), so a request to `<name>.localhost:<port>` reaches
 *    the same handler as on AWS; the HTTP front also calls it for a SLEEPING environment whose
 *    rule still forwards to its own target group (after a restart);
 *  - the idle-sleep schedule: functions/events/idle-sleep.ts every FLEDGE_IDLE_CHECK_INTERVAL
 *    when FLEDGE_IDLE_SLEEP_AFTER is set (off otherwise; infra/local/README.md). The simulated ALB counts
 *    the requests each target group gets, and the simulated CloudWatch answers GetMetricData
 *    from those counts, so the handler is the one that runs on AWS.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseIdleSleepAfter } from '../../functions/domain/scaling.ts';
import { LocalStartupError, type LocalLogger } from './dynamodb-local.ts';
import type { Simulator } from './simulator/index.ts';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Upper case: no environment's target group (named after the environment, a DNS label) can take it. */
export const WAKER_TARGET_GROUP_NAME = 'FledgeWaker';
export const WAKER_MODULE = join(REPO_ROOT, 'functions', 'events', 'waker.ts');
export const IDLE_SLEEP_MODULE = join(REPO_ROOT, 'functions', 'events', 'idle-sleep.ts');

export interface LocalWaker {
  functionArn: string;
  /** shard s1's waker target group */
  targetGroupArn: string;
  /** each shard's waker target group, by shard id */
  targetGroupArns: Map<string, string>;
  /** the handler module behind `functionArn` */
  module: string;
}

/** One waker function; a Lambda target group per shard (`FledgeWaker` for s1, `FledgeWaker-s2`, ...). */
export async function createLocalWaker(simulator: Simulator, region: string, accountId: string): Promise<LocalWaker> {
  const functionArn = `arn:aws:lambda:${region}:${accountId}:function:fledge-local-waker`;
  const targetGroupArns = new Map<string, string>();
  for (const shard of simulator.shards) {
    const created = (await simulator.call('elasticloadbalancingv2', 'CreateTargetGroup', {
      Name: shard.id === 's1' ? WAKER_TARGET_GROUP_NAME : `${WAKER_TARGET_GROUP_NAME}-${shard.id}`,
      TargetType: 'lambda',
      // no fledge:environment tag: it belongs to no environment, and cleanup must leave it alone
      Tags: [{ Key: 'fledge:managed-by', Value: 'fledge' }, { Key: 'fledge:component', Value: 'waker' }, { Key: 'fledge:shard', Value: shard.id }],
    })) as { TargetGroups: { TargetGroupArn: string }[] };
    const targetGroupArn = created.TargetGroups[0]!.TargetGroupArn;
    await simulator.call('elasticloadbalancingv2', 'RegisterTargets', { TargetGroupArn: targetGroupArn, Targets: [{ Id: functionArn }] });
    targetGroupArns.set(shard.id, targetGroupArn);
  }
  return { functionArn, targetGroupArn: targetGroupArns.get('s1')!, targetGroupArns, module: WAKER_MODULE };
}

/** `500ms`, `2s`, `1m` or plain milliseconds. */
function parseInterval(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const match = /^(\d+)(ms|s|m|h)?$/.exec(raw.trim());
  if (!match) throw new LocalStartupError(`${name} must look like "30s", "1m" or a number of milliseconds, got "${raw}"`);
  const unit = (match[2] ?? 'ms') as 'ms' | 's' | 'm' | 'h';
  return Number(match[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit];
}

export interface IdleSleepSchedule {
  idleAfterMs: number;
  everyMs: number;
  stop(): void;
}

/**
 * Runs `run` (the idle-sleep handler) every FLEDGE_IDLE_CHECK_INTERVAL (default: a quarter of
 * the idle period, between 1 s and 60 s) while FLEDGE_IDLE_SLEEP_AFTER is set; undefined when
 * idle sleep is off. A run never overlaps the previous one.
 */
export function startIdleSleepSchedule(
  run: () => Promise<unknown>,
  log: LocalLogger,
  env: NodeJS.ProcessEnv = process.env,
): IdleSleepSchedule | undefined {
  let idleAfterMs: number | undefined;
  try {
    idleAfterMs = parseIdleSleepAfter(env.FLEDGE_IDLE_SLEEP_AFTER);
  } catch (error) {
    throw new LocalStartupError((error as Error).message);
  }
  if (idleAfterMs === undefined) return undefined;
  const everyMs = parseInterval(env.FLEDGE_IDLE_CHECK_INTERVAL, 'FLEDGE_IDLE_CHECK_INTERVAL') ?? Math.min(60_000, Math.max(1000, Math.round(idleAfterMs / 4)));
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    run()
      .then((report) => {
        const slept = (report as { slept?: string[] } | undefined)?.slept ?? [];
        if (slept.length > 0) log.info('idle sleep: environments put to sleep', { slept });
        else log.debug('idle sleep: nothing idle', { report });
      })
      .catch((error: unknown) => log.warn('idle sleep run failed', { error: error instanceof Error ? error.message : String(error) }))
      .finally(() => {
        busy = false;
      });
  }, everyMs);
  timer.unref();
  log.info('idle sleep is on', { idleAfterMs, everyMs });
  return { idleAfterMs, everyMs, stop: () => clearInterval(timer) };
}

/**
 * What a request to an environment's URL does when it reaches the waker
 * (functions/events/waker.ts answers it with a page): a sleeping environment is woken, back to
 * the count it slept from (actor `request`); a running one whose listener rule still forwards
 * to the waker (a rule swap that did not happen) gets a scale to the count it has, whose last
 * step moves the rule back.
 */
import { getEnvironment } from '#adapters/environment-store.ts';
import { findListenerRule, targetGroupNameOf } from '#adapters/scaling-resources.ts';
import { runtimeConfig } from '#runtime/config.ts';
import type { EnvironmentRecord } from '#domain/environment.ts';
import { legacyTargetGroupName, targetGroupName } from '#domain/resource-names.ts';
import { wakeCount } from '#domain/scaling.ts';
import { systemCaller, type Caller, type CommandResult } from './environment-commands.ts';
import { changedMeanwhile, retryingLostRaces } from './fresh-read.ts';
import { scaleEnvironment, scaleUnlessChanged } from './scale-commands.ts';
import { recordScope } from './shard-scope.ts';

export type WakerVisit =
  /** no such environment, or it is DELETED or DELETING */
  | { kind: 'gone'; record?: EnvironmentRecord }
  /** it slept: a wake was started (`started`) or one already runs */
  | { kind: 'waking'; started: boolean; record?: EnvironmentRecord }
  /** it runs; `repair` when its rule still forwarded to the waker */
  | { kind: 'running'; repair?: { started: boolean } }
  /** any other status: an operation in flight, FAILED, DEGRADED */
  | { kind: 'other'; record: EnvironmentRecord };

/** A request to `name`'s URL reached the waker. */
export async function requestReachedWaker(name: string, caller: Caller): Promise<WakerVisit> {
  const record = await getEnvironment(name);
  if (!record || record.status === 'DELETED' || record.status === 'DELETING') return { kind: 'gone', record };
  if (record.status === 'SLEEPING') {
    const result = await wakeEnvironment(name, caller);
    return { kind: 'waking', started: result?.outcome === 'started', record: result?.record };
  }
  if (record.status === 'RUNNING') {
    if (!(await ruleForwardsToWaker(record))) return { kind: 'running' };
    const repair = await repairRunningEnvironment(name, caller);
    return { kind: 'running', repair: { started: repair?.outcome === 'started' } };
  }
  return { kind: 'other', record };
}

/**
 * Whether the environment's listener rule exists and forwards to none of its own target
 * groups: the one named for this installation (resource-names.ts targetGroupName) or, for an
 * environment of an earlier version, the one named exactly after it.
 */
async function ruleForwardsToWaker(record: { name: string; shard?: string }): Promise<boolean> {
  const { name } = record;
  const config = runtimeConfig();
  // on the listener of the environment's own load balancer
  const rule = await findListenerRule(recordScope(record, config).listenerArn, `${name}.${config.baseDomain}`);
  if (!rule) return false;
  const own = new Set([targetGroupName(config.installationId, name), legacyTargetGroupName(name)]);
  return !rule.targetGroupArns.some((arn) => own.has(targetGroupNameOf(arn) ?? ''));
}

/**
 * Wakes a sleeping environment, back to the count it slept from. Anything but SLEEPING is left
 * alone and answered as it is (a wake already running, a request that raced the rule swap), so
 * concurrent requests start one wake between them: the loser reads again.
 */
async function wakeEnvironment(name: string, caller: Caller): Promise<CommandResult | undefined> {
  return retryingLostRaces(3, changedMeanwhile, async () => {
    const current = await getEnvironment(name);
    if (!current) return undefined;
    if (current.status !== 'SLEEPING') return { outcome: 'unchanged', record: current };
    return scaleEnvironment(name, { desiredCount: wakeCount(current) }, systemCaller(caller), { ifMatch: String(current.version) });
  });
}

/** A scale of a RUNNING environment to the count it has: the workflow's last step points its rule back at its service. */
async function repairRunningEnvironment(name: string, caller: Caller): Promise<CommandResult | undefined> {
  const current = await getEnvironment(name);
  if (!current || current.status !== 'RUNNING') return undefined;
  return scaleUnlessChanged(name, { desiredCount: current.spec.desiredCount }, caller, {
    ifMatch: String(current.version),
    reason: 'its URL still led to the waker',
  });
}
